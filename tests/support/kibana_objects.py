"""The Kibana assets (saved objects, connectors, alert rules) and every field they use.

Field names are found by parsing, never by pattern matching: KQL with stack_models/kql.py's
reader of a subset of Kibana's kuery grammar, Elasticsearch query DSL by
walking the clauses, Lens form-based layers, saved-search columns and sort,
data-view time and format fields, and rule params. Whatever this module cannot
read (other KQL, Lucene queries, ES|QL outside stack_models/esql.py's subset, unknown query
clauses, formulas) raises UnsupportedQuery, so a field is never silently missed.

Rule files hold "${NAME}" placeholders that setup fills from the environment; load_rules fills them
with .env.example's values, the documented defaults, by its own small rules (a placeholder alone in
a string becomes the number, inside a longer one its digits).
"""

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from stack_models.esql import EsqlUnsupported, read_esql
from stack_models.kql import KqlUnsupported, read_kql
from stack_models.kql import kql_fields as read_kql_fields
from tests.support.env_file import example_values
from tests.support.paths import KIBANA_DIR, SAVED_OBJECTS_PATH

RULES_DIR = KIBANA_DIR / "rules"
CONNECTORS_DIR = KIBANA_DIR / "connectors"

# The data views: the logs (django-logs-*) and the alerts the rules write (the django-alerts data stream).
LOGS_DATA_VIEW_ID = "django-logs"
ALERTS_DATA_VIEW_ID = "django-alerts"
# Mustache variables an alert document may use: the alerting framework's rule.id, rule.name and
# alert.id (the group: a grouped .es-query rule's alert id is its group value, es_query/executor.ts),
# and the .es-query context (stack_alerts/server/rule_types/es_query/action_context.ts).
ALERT_DOCUMENT_VARIABLES = frozenset({
    "rule.id", "rule.name", "alert.id", "context.date", "context.value", "context.conditions", "context.message",
})
MUSTACHE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# Lens's pseudo-field for "count of records"; it is not a document field.
LENS_RECORDS_FIELD = "___records___"
# Discover pseudo-columns that are not document fields.
DISCOVER_PSEUDO_FIELDS = frozenset({"_source", "_score"})


class AssetError(ValueError):
    """An asset file is not of the shape this project ships."""


class UnsupportedQuery(ValueError):
    """A query or object part this module cannot read, so its fields cannot be listed."""


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


_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def fill_placeholders(value, numbers: dict[str, int]):
    """A JSON value with each "${NAME}" replaced from ``numbers`` (KeyError on an unknown name)."""
    if isinstance(value, dict):
        return {key: fill_placeholders(item, numbers) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(item, numbers) for item in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return numbers[whole.group(1)]
        return _PLACEHOLDER.sub(lambda match: str(numbers[match.group(1)]), value)
    return value


def documented_numbers() -> dict[str, int]:
    """.env.example's whole-number values: the defaults the rules' placeholders take."""
    return {name: int(value) for name, value in example_values().items() if value.isdigit()}


def load_rules(directory: Path = RULES_DIR, numbers: dict[str, int] | None = None) -> list[ApiObject]:
    """The rule files with their placeholders filled (by default with .env.example's values)."""
    values = documented_numbers() if numbers is None else numbers
    return [ApiObject(rule.path, rule.id, fill_placeholders(rule.body, values)) for rule in load_api_objects(directory)]


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


# --- KQL ----------------------------------------------------------------------


def kql_fields(query: str) -> set[str]:
    """Field names a KQL query names, read by stack_models/kql.py (UnsupportedQuery outside its subset)."""
    try:
        return read_kql_fields(read_kql(query))
    except KqlUnsupported as error:
        raise UnsupportedQuery(str(error)) from error


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


def rule_esql(rule: ApiObject):
    """The ES|QL of an esqlQuery rule, read by stack_models/esql.py (UnsupportedQuery outside its subset)."""
    try:
        return read_esql(rule.body["params"]["esqlQuery"]["esql"])
    except EsqlUnsupported as error:
        raise UnsupportedQuery(f"{rule.path}: {error}") from error


def rule_fields(rule: ApiObject) -> set[str]:
    """Every document field an .es-query rule uses (timeField, the query, grouping and aggregation fields)."""
    body = rule.body
    if body.get("rule_type_id") != ".es-query":
        raise UnsupportedQuery(f"{rule.path}: rule type {body.get('rule_type_id')!r} is not analysed")
    params = body["params"]
    search_type = params.get("searchType", "esQuery")
    if search_type == "esqlQuery":
        query = rule_esql(rule)
        return {params["timeField"]} | query.fields | query.kql_fields
    if search_type != "esQuery":
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


def data_view_of(obj: dict) -> str:
    """The data view a saved object reads: itself, the index-pattern it references, else the logs'."""
    if obj["type"] == "index-pattern":
        return obj["id"]
    views = {ref["id"] for ref in obj.get("references", []) if ref["type"] == "index-pattern"}
    if len(views) > 1:
        raise UnsupportedQuery(f"{describe(obj)}: reads several data views {sorted(views)}")
    return views.pop() if views else LOGS_DATA_VIEW_ID


def on_data_view(saved_objects: Iterable[dict], view_id: str) -> list[dict]:
    return [obj for obj in saved_objects if data_view_of(obj) == view_id]


def document_fields(document: dict, prefix: str = "") -> dict[str, object]:
    """Dotted leaf path -> value of one document an Index action writes."""
    fields: dict[str, object] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            fields.update(document_fields(value, f"{prefix}{key}."))
        else:
            fields[f"{prefix}{key}"] = value
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
    """Every field any saved object or rule uses; defaults to the project's own rules and the saved
    objects on the logs data view (the alerts view reads what the rules write, not the pipeline)."""
    objects = on_data_view(load_saved_objects(), LOGS_DATA_VIEW_ID) if saved_objects is None else saved_objects
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
