"""The Kibana assets (saved objects, connectors, alert rules) and every field they use.

Field names are found by parsing, never by pattern matching: KQL with a parser
that follows Kibana's kuery grammar (kbn-es-query's grammar.peggy), Elasticsearch
query DSL by walking the clauses, Lens form-based layers, saved-search columns
and sort, data-view time and format fields, and rule params. Whatever this module
cannot read (Lucene or ES|QL queries, unknown query clauses, formulas) raises
UnsupportedQuery, so a field is never silently missed.
"""

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
KIBANA_DIR = REPO_ROOT / "kibana"
SAVED_OBJECTS_PATH = KIBANA_DIR / "saved_objects.ndjson"
RULES_DIR = KIBANA_DIR / "rules"
CONNECTORS_DIR = KIBANA_DIR / "connectors"

# Lens's pseudo-field for "count of records"; it is not a document field.
LENS_RECORDS_FIELD = "___records___"
# Discover pseudo-columns that are not document fields.
DISCOVER_PSEUDO_FIELDS = frozenset({"_source", "_score"})


class AssetError(ValueError):
    """An asset file is not of the shape this project ships."""


class UnsupportedQuery(ValueError):
    """A query or object part this module cannot read, so its fields cannot be listed."""


class KqlSyntaxError(ValueError):
    """A KQL string Kibana's grammar would reject."""


@dataclass(frozen=True)
class ApiObject:
    """One kibana/{rules,connectors}/*.json file: the id to POST to and the create body."""

    path: Path
    id: str
    body: dict


# --- loading -----------------------------------------------------------------


def load_saved_objects(path: Path = SAVED_OBJECTS_PATH) -> list[dict]:
    """The saved objects of an NDJSON export, one JSON object a line (blank lines skipped)."""
    objects = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise AssetError(f"{path}:{number}: not JSON: {error}") from error
        if not isinstance(obj, dict) or not {"id", "type", "attributes"} <= obj.keys():
            raise AssetError(f"{path}:{number}: a saved object needs id, type and attributes")
        objects.append(obj)
    return objects


def load_api_objects(directory: Path) -> list[ApiObject]:
    """Every *.json file of a folder, each {"id": ..., "body": {...}}, sorted by file name."""
    loaded = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise AssetError(f"{path}: not JSON: {error}") from error
        if not isinstance(data, dict) or set(data) != {"id", "body"}:
            raise AssetError(f'{path}: expected exactly {{"id": ..., "body": {{...}}}}')
        if not isinstance(data["id"], str) or not isinstance(data["body"], dict):
            raise AssetError(f"{path}: id must be a string and body an object")
        loaded.append(ApiObject(path=path, id=data["id"], body=data["body"]))
    return loaded


def load_rules(directory: Path = RULES_DIR) -> list[ApiObject]:
    return load_api_objects(directory)


def load_connectors(directory: Path = CONNECTORS_DIR) -> list[ApiObject]:
    return load_api_objects(directory)


def json_attribute(obj: dict, *keys: str):
    """A stringified-JSON attribute (panelsJSON, searchSourceJSON, ...) parsed."""
    value = obj
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise AssetError(f"{describe(obj)}: missing {'.'.join(keys)}")
        value = value[key]
    if not isinstance(value, str):
        raise AssetError(f"{describe(obj)}: {'.'.join(keys)} must be a JSON string")
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise AssetError(f"{describe(obj)}: {'.'.join(keys)} is not JSON: {error}") from error


def describe(obj: dict) -> str:
    return f"{obj.get('type', '?')} {obj.get('id', '?')!r}"


# --- KQL -----------------------------------------------------------------------

_KQL_SPACE = " \t\r\n\u00a0"
_KQL_SPECIAL = '\\():<>"*{}'
_KQL_RANGE_OPERATORS = ("<=", ">=", "<", ">")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


class _KqlParser:
    """Recursive descent over Kibana's kuery grammar, collecting field names.

    Mirrors the PEG rules (OrQuery, AndQuery, NotQuery, SubQuery, NestedQuery,
    Field{Range,Value}Expression, ValueExpression, ListOfValues, literals with
    their escapes and the Keyword look-ahead that ends an unquoted literal).
    """

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.fields: set[str] = set()
        self.nested: list[str] = []

    def parse(self) -> set[str]:
        self._spaces()
        if self.pos < len(self.text):
            self._or_query()
        self._spaces()
        if self.pos != len(self.text):
            self._fail("expected AND, OR or the end of the query")
        return self.fields

    # grammar rules
    def _or_query(self) -> None:
        self._and_query()
        while self._conjunction("or"):
            self._and_query()

    def _and_query(self) -> None:
        self._not_query()
        while self._conjunction("and"):
            self._not_query()

    def _not_query(self) -> None:
        self._optionally_negated(self._sub_query)

    def _sub_query(self) -> None:
        if self._peek("("):
            self.pos += 1
            self._spaces()
            self._or_query()
            self._spaces()
            self._expect(")")
        else:
            self._expression()

    def _expression(self) -> None:
        field = self._literal()
        after_literal = self.pos
        self._spaces()
        if self._peek(":"):
            self.pos += 1
            self._spaces()
            if self._peek("{"):
                self.pos += 1
                self.nested.append(field)
                self._spaces()
                self._or_query()
                self._spaces()
                self._expect("}")
                self.nested.pop()
                return
            self._record(field)
            self._list_of_values()
            return
        for operator in _KQL_RANGE_OPERATORS:
            if self.text.startswith(operator, self.pos):
                self.pos += len(operator)
                self._spaces()
                self._record(field)
                self._literal()
                return
        # A bare value: free text searched in the default fields, no field named.
        self.pos = after_literal

    def _list_of_values(self) -> None:
        if self._peek("("):
            self.pos += 1
            self._spaces()
            self._or_list()
            self._spaces()
            self._expect(")")
        else:
            self._literal()

    def _or_list(self) -> None:
        self._and_list()
        while self._conjunction("or"):
            self._and_list()

    def _and_list(self) -> None:
        self._not_list()
        while self._conjunction("and"):
            self._not_list()

    def _not_list(self) -> None:
        self._optionally_negated(self._list_of_values)

    def _optionally_negated(self, rule) -> None:
        """`Not rule / rule`: a PEG choice, so a failed negated form is retried without the Not."""
        start, fields = self.pos, set(self.fields)
        if self._not():
            try:
                rule()
                return
            except KqlSyntaxError:
                self.pos, self.fields = start, fields
        rule()

    # terminals
    def _literal(self) -> str:
        if self._peek('"'):
            return self._quoted()
        return self._unquoted()

    def _quoted(self) -> str:
        self.pos += 1
        chars = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\":
                escaped = self._escape_in_quotes()
                if escaped is not None:
                    chars.append(escaped)
                    continue
            chars.append(char)
            self.pos += 1
        self._fail("unterminated quoted string")

    def _escape_in_quotes(self) -> str | None:
        following = self.text[self.pos + 1 : self.pos + 2]
        if following in ("t", "r", "n"):
            self.pos += 2
            return {"t": "\t", "r": "\r", "n": "\n"}[following]
        unicode_escape = self._unicode_escape()
        if unicode_escape is not None:
            return unicode_escape
        if following in ("\\", '"'):
            self.pos += 2
            return following
        return None

    def _unquoted(self) -> str:
        start = self.pos
        chars = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                escaped = self._escape_unquoted()
                if escaped is None:
                    break
                chars.append(escaped)
                continue
            if char == "*":
                chars.append(char)
                self.pos += 1
                continue
            if char in _KQL_SPECIAL or self._keyword_here():
                break
            chars.append(char)
            self.pos += 1
        if self.pos == start:
            self._fail("expected a field name or a value")
        return "".join(chars).strip(_KQL_SPACE)

    def _escape_unquoted(self) -> str | None:
        following = self.text[self.pos + 1 : self.pos + 2]
        if following in ("t", "r", "n"):
            self.pos += 2
            return {"t": "\t", "r": "\r", "n": "\n"}[following]
        if following and following in _KQL_SPECIAL:
            self.pos += 2
            return following
        unicode_escape = self._unicode_escape()
        if unicode_escape is not None:
            return unicode_escape
        for keyword in ("or", "and", "not"):
            word = self.text[self.pos + 1 : self.pos + 1 + len(keyword)]
            if word.lower() == keyword:
                self.pos += 1 + len(keyword)
                return word
        return None

    def _unicode_escape(self) -> str | None:
        if self.text[self.pos + 1 : self.pos + 2] == "u" and _HEX4.fullmatch(self.text[self.pos + 2 : self.pos + 6]):
            code = int(self.text[self.pos + 2 : self.pos + 6], 16)
            self.pos += 6
            return chr(code)
        return None

    def _keyword_here(self) -> bool:
        """The grammar's Keyword look-ahead: ' or ', ' and ' or 'not ' starting here."""
        text, pos = self.text, self.pos
        if text[pos] in _KQL_SPACE:
            for word in ("or", "and"):
                end = pos + 1 + len(word)
                if text[pos + 1 : end].lower() == word and text[end : end + 1] and text[end] in _KQL_SPACE:
                    return True
        return text[pos : pos + 3].lower() == "not" and bool(text[pos + 3 : pos + 4]) and text[pos + 3] in _KQL_SPACE

    def _conjunction(self, word: str) -> bool:
        """Space+ word Space+ (case-insensitive); consumed only if it all matches."""
        pos = self.pos
        spaces = pos
        while spaces < len(self.text) and self.text[spaces] in _KQL_SPACE:
            spaces += 1
        end = spaces + len(word)
        if spaces == pos or self.text[spaces:end].lower() != word:
            return False
        after = end
        while after < len(self.text) and self.text[after] in _KQL_SPACE:
            after += 1
        if after == end:
            return False
        self.pos = after
        return True

    def _not(self) -> bool:
        """Not = 'not'i Space+; consumed only if it all matches."""
        if self.text[self.pos : self.pos + 3].lower() != "not":
            return False
        after = self.pos + 3
        while after < len(self.text) and self.text[after] in _KQL_SPACE:
            after += 1
        if after == self.pos + 3:
            return False
        self.pos = after
        return True

    def _spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _KQL_SPACE:
            self.pos += 1

    def _peek(self, char: str) -> bool:
        return self.text.startswith(char, self.pos)

    def _expect(self, char: str) -> None:
        if not self._peek(char):
            self._fail(f"expected {char!r}")
        self.pos += 1

    def _record(self, field: str) -> None:
        if not field:
            self._fail("empty field name")
        self.fields.add(".".join([*self.nested, field]))

    def _fail(self, reason: str):
        raise KqlSyntaxError(f"{reason} at offset {self.pos} in KQL {self.text!r}")


def kql_fields(query: str) -> set[str]:
    """Field names a KQL query names (nested queries give their full dotted path)."""
    return _KqlParser(query).parse()


def query_fields(query: dict) -> set[str]:
    """Fields of a Kibana query object {"query": ..., "language": ...}."""
    if not isinstance(query, dict):
        raise AssetError(f"a Kibana query must be an object, got {query!r}")
    if "esql" in query:
        raise UnsupportedQuery(f"ES|QL query is not analysed: {query['esql']!r}")
    text = query.get("query", "")
    language = query.get("language")
    if isinstance(text, dict):
        return es_query_fields(text)
    if not isinstance(text, str):
        raise AssetError(f"query text must be a string, got {text!r}")
    if language == "kuery":
        return kql_fields(text)
    if language == "lucene" and text.strip() in ("", "*"):
        return set()
    raise UnsupportedQuery(f"{language!r} query is not analysed: {text!r}")


# --- Elasticsearch query DSL ---------------------------------------------------

# Clauses of the form {"<type>": {"<field>": ...}} (options besides the field: boost, _name).
_FIELD_KEYED_CLAUSES = frozenset(
    {
        "term",
        "terms",
        "terms_set",
        "match",
        "match_phrase",
        "match_phrase_prefix",
        "match_bool_prefix",
        "prefix",
        "wildcard",
        "regexp",
        "fuzzy",
        "range",
    }
)
_CLAUSE_OPTIONS = frozenset({"boost", "_name"})
_BOOL_OCCURRENCES = ("must", "filter", "should", "must_not")


def es_query_fields(clause: dict) -> set[str]:
    """Fields named by one Elasticsearch query clause (the value of a search body's "query")."""
    if not isinstance(clause, dict) or len(clause) != 1:
        raise AssetError(f"a query clause must be an object with one key, got {clause!r}")
    ((kind, body),) = clause.items()
    if not isinstance(body, dict):
        raise AssetError(f"the body of a {kind!r} clause must be an object, got {body!r}")
    if kind in _FIELD_KEYED_CLAUSES:
        names = set(body) - _CLAUSE_OPTIONS
        if not names:
            raise AssetError(f"{kind!r} clause names no field: {body!r}")
        return names
    if kind == "exists":
        return {body["field"]}
    if kind in ("match_all", "match_none"):
        return set()
    if kind == "bool":
        unknown = set(body) - set(_BOOL_OCCURRENCES) - _CLAUSE_OPTIONS - {"minimum_should_match"}
        if unknown:
            raise UnsupportedQuery(f"bool clause has unknown keys {sorted(unknown)}")
        fields: set[str] = set()
        for occurrence in _BOOL_OCCURRENCES:
            clauses = body.get(occurrence, [])
            for inner in clauses if isinstance(clauses, list) else [clauses]:
                fields |= es_query_fields(inner)
        return fields
    if kind == "constant_score":
        return es_query_fields(body["filter"])
    if kind == "nested":
        return {body["path"]} | es_query_fields(body["query"])
    raise UnsupportedQuery(f"query clause {kind!r} is not analysed")


def es_search_body_fields(body: dict) -> set[str]:
    """Fields of a search body as an .es-query rule holds it ({"query": {...}})."""
    if not isinstance(body, dict) or "query" not in body:
        raise AssetError(f'an esQuery must be an object with "query", got {body!r}')
    extra = set(body) - {"query"}
    if extra:
        raise UnsupportedQuery(f"esQuery keys besides query are not analysed: {sorted(extra)}")
    return es_query_fields(body["query"])


# --- saved objects ---------------------------------------------------------------


def _search_source_fields(search_source: dict) -> set[str]:
    fields = set()
    if "query" in search_source:
        fields |= query_fields(search_source["query"])
    fields |= _filter_fields(search_source.get("filter", []))
    return fields


def _filter_fields(filters: list) -> set[str]:
    """Filter pills: their meta.key and the ES query each one runs."""
    fields = set()
    for pill in filters:
        meta = pill.get("meta", {})
        if meta.get("key"):
            fields.add(meta["key"])
        if "query" in pill:
            fields |= es_query_fields(pill["query"])
        elif not meta.get("key"):
            raise UnsupportedQuery(f"filter pill without a query or key: {pill!r}")
    return fields


def lens_fields(attributes: dict) -> set[str]:
    """Fields a Lens visualization's attributes use (form-based layers, queries, annotations)."""
    state = attributes["state"]
    fields = set()
    for name, datasource in state["datasourceStates"].items():
        layers = datasource.get("layers", {})
        if name in ("formBased", "indexpattern"):
            for layer in layers.values():
                for column in layer["columns"].values():
                    fields |= _lens_column_fields(column)
        elif layers:
            raise UnsupportedQuery(f"Lens {name!r} layers are not analysed")
    fields |= query_fields(state.get("query", {"query": "", "language": "kuery"}))
    fields |= _filter_fields(state.get("filters", []))
    for layer in state.get("visualization", {}).get("layers", []):
        for annotation in layer.get("annotations", []):
            if annotation.get("timeField"):
                fields.add(annotation["timeField"])
            fields.update(annotation.get("extraFields", []))
            if "filter" in annotation:
                fields |= query_fields(annotation["filter"])
    return fields


def _lens_column_fields(column: dict) -> set[str]:
    operation = column.get("operationType")
    if operation in ("formula", "math"):
        raise UnsupportedQuery(f"Lens {operation} columns are not analysed: {column.get('label')!r}")
    fields = set()
    source = column.get("sourceField")
    if source and source != LENS_RECORDS_FIELD:
        fields.add(source)
    if "filter" in column:
        fields |= query_fields(column["filter"])
    for bucket in column.get("params", {}).get("filters", []):
        fields |= query_fields(bucket["input"])
    return fields


def _search_fields(attributes: dict) -> set[str]:
    # A 9.x discover session keeps its searches in tabs; older ones at the top level.
    states = [tab["attributes"] for tab in attributes["tabs"]] if "tabs" in attributes else [attributes]
    fields = set()
    for state in states:
        fields.update(column for column in state.get("columns", []) if column not in DISCOVER_PSEUDO_FIELDS)
        fields.update(order[0] for order in state.get("sort", []) if order[0] not in DISCOVER_PSEUDO_FIELDS)
        fields.update(state.get("grid", {}).get("columns", {}))
        fields |= _search_source_fields(json_attribute(state, "kibanaSavedObjectMeta", "searchSourceJSON"))
    return fields


def _dashboard_fields(obj: dict) -> set[str]:
    attributes = obj["attributes"]
    fields = _search_source_fields(json_attribute(obj["attributes"], "kibanaSavedObjectMeta", "searchSourceJSON"))
    for panel in json_attribute(attributes, "panelsJSON"):
        by_value = panel.get("embeddableConfig", {}).get("attributes")
        if by_value is not None:
            if panel.get("type") != "lens":
                raise UnsupportedQuery(f"{describe(obj)}: by-value {panel.get('type')!r} panel is not analysed")
            fields |= lens_fields(by_value)
    if "controlGroupInput" in attributes:
        for control in json_attribute(attributes["controlGroupInput"], "panelsJSON").values():
            fields.add(control["explicitInput"]["fieldName"])
    return fields


def _index_pattern_fields(attributes: dict) -> set[str]:
    fields = set()
    if attributes.get("timeFieldName"):
        fields.add(attributes["timeFieldName"])
    for key in ("fieldFormatMap", "fieldAttrs"):
        if attributes.get(key):
            fields.update(json.loads(attributes[key]))
    return fields


def saved_object_fields(obj: dict) -> set[str]:
    """Every document field one saved object uses."""
    kind = obj["type"]
    if kind == "index-pattern":
        return _index_pattern_fields(obj["attributes"])
    if kind == "lens":
        return lens_fields(obj["attributes"])
    if kind == "search":
        return _search_fields(obj["attributes"])
    if kind == "dashboard":
        return _dashboard_fields(obj)
    raise UnsupportedQuery(f"{describe(obj)}: saved object type {kind!r} is not analysed")


def rule_fields(rule: ApiObject) -> set[str]:
    """Every document field an .es-query rule uses (timeField, esQuery, grouping and aggregation fields)."""
    body = rule.body
    if body.get("rule_type_id") != ".es-query":
        raise UnsupportedQuery(f"{rule.path}: rule type {body.get('rule_type_id')!r} is not analysed")
    params = body["params"]
    if params.get("searchType", "esQuery") != "esQuery":
        raise UnsupportedQuery(f"{rule.path}: searchType {params['searchType']!r} is not analysed")
    try:
        search_body = json.loads(params["esQuery"])
    except json.JSONDecodeError as error:
        raise AssetError(f"{rule.path}: esQuery is not JSON: {error}") from error
    fields = {params["timeField"]} | es_search_body_fields(search_body)
    term_field = params.get("termField")
    fields.update([term_field] if isinstance(term_field, str) else term_field or [])
    if params.get("aggField"):
        fields.add(params["aggField"])
    return fields


def field_usages(saved_objects: Iterable[dict], rules: Iterable[ApiObject]) -> dict[str, set[str]]:
    """Each used field name -> the objects and rules that use it (for readable failures)."""
    usages: dict[str, set[str]] = defaultdict(set)
    for obj in saved_objects:
        for field in saved_object_fields(obj):
            usages[field].add(describe(obj))
    for rule in rules:
        for field in rule_fields(rule):
            usages[field].add(f"rule {rule.path.name}")
    return dict(usages)


def used_field_names(saved_objects: Iterable[dict] | None = None, rules: Iterable[ApiObject] | None = None) -> set[str]:
    """Every field any saved object or rule uses; defaults to the project's own files."""
    objects = load_saved_objects() if saved_objects is None else saved_objects
    loaded_rules = load_rules() if rules is None else rules
    return set(field_usages(objects, loaded_rules))


# --- index template ----------------------------------------------------------------


def mapped_field_types(index_template: dict) -> dict[str, str]:
    """Flattened field path -> mapping type of an index template body (multi-fields included)."""
    properties = index_template["template"]["mappings"]["properties"]
    return dict(_walk_properties(properties, prefix=""))


def _walk_properties(properties: dict, prefix: str) -> Iterator[tuple[str, str]]:
    for name, mapping in properties.items():
        path = f"{prefix}{name}"
        if "properties" in mapping:
            yield from _walk_properties(mapping["properties"], prefix=f"{path}.")
            continue
        yield path, mapping["type"]
        for sub_name, sub_mapping in mapping.get("fields", {}).items():
            yield f"{path}.{sub_name}", sub_mapping["type"]
