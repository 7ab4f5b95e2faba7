"""Runs a query of stack_models/esql.py's subset on documents, with ES|QL's types and null semantics.

Sources, elastic/elasticsearch docs/reference/query-languages/esql/:
- esql-multivalued-fields.md: keyword and ip values come sorted and deduplicated, long and date keep
  duplicates; a function or operator applied to a multi-value is null, with a warning "single-value
  function encountered multi-value" (so WHERE drops the row).
- _snippets/commands/layout/stats-by.md: null values are skipped by aggregations; without BY, one row; a row
  whose BY value is multivalued is in all its groups; null is a group of its own.
- _snippets/functions/examples/count.md: COUNT(*) counts rows, COUNT(x) counts values (each of a multi-value).
- A column that is not in the mapping is a verification error "Unknown column [x]" (esql-syntax.md).
- TO_LOWER: x-pack/plugin/esql/src/main/java/org/elasticsearch/xpack/esql/expression/function/scalar/string/
  ToLower.java and its base ChangeCase.java: a keyword or text operand (else the verifier's TypeResolutions
  message), a keyword result, null stays null, and since 9.1 (@ConvertEvaluator) each value of a multi-value
  lowered in place, duplicates kept. It lowers with String.toLowerCase(configuration.locale()): Kibana's
  rule sends no locale (fetch_esql_query.ts getEsqlQuery), so TransportEsqlQueryAction's Locale.US. For US
  both Java and str.lower apply Unicode's full lowercase mappings (SpecialCasing: U+0130 -> "i" U+0307) and the
  Final_Sigma rule; they can differ only for characters whose case mapping their Unicode versions disagree
  on (Python 3.12 has Unicode 15.0, the JDK 24 Elasticsearch 9 bundles Unicode 16, which added cased
  letters), never for ASCII.
- STATS ... BY a multi-value groups the row once per distinct value (compute's BytesRefBlockHash hashes
  through MultivalueDedupeBytesRef).
- A comparison pushed to Lucene is wrapped in x-pack/plugin/esql/src/main/java/org/elasticsearch/xpack/esql/
  querydsl/query/SingleValueQuery.java: it selects documents that match "and have a single field value"
  (SingleValueMatchQuery warns on the others), so event.category == "authentication" drops an event whose
  categories are [authentication, session], and so does NOT (its negate keeps the single-value test).
- KQL(...) is a Lucene query on the document (fulltext/Kql.java translate -> KqlQuery): true or false, never
  null (FullTextFunction.nullable() is FALSE), a term on a multi-valued field matching any of its values.
- A wildcard field is keyword: ES|QL takes a field's type from _field_caps, which gives its family type
  (session/IndexResolver.java, createField; es_fields.field_caps_type); esql-core DataType.java has no wildcard.
  A field whose ES|QL types differ between the indices queried cannot be used: the Analyzer's "Cannot use field
  [x] due to ambiguities being " and InvalidMappedField.java's message (IndexResolver.java, conflictingTypes).
Values are None, one value, or a tuple (a multi-value); ip values are es_fields.ip_key ints and dates epoch ms.
A keyword value over ignore_above is read as missing (null): it has no doc value (not confirmed on 9.x).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stack_models.es_fields import TEXT_TYPES, Field, field_caps_type, indexed_values
from stack_models.esql import EsqlQuery
from stack_models.kql import to_query_dsl
from stack_models.query_dsl import compile_query

# ES|QL's type of each mapped field type (esql-supported-types in the ES|QL docs), and its comparison family.
ESQL_TYPES = {"keyword": "keyword", "wildcard": "keyword", "match_only_text": "text", "text": "text", "ip": "ip", "long": "long",
              "date": "datetime", "boolean": "boolean"}
FAMILIES = {"keyword": "string", "text": "string", "long": "numeric", "integer": "numeric", "datetime": "datetime",
            "ip": "ip", "boolean": "boolean"}
MIN_MAX_TYPES = frozenset({"long", "integer", "datetime"})
MULTI_VALUE_WARNING = "java.lang.IllegalArgumentException: single-value function encountered multi-value"
_DOCUMENT = object()  # the row's document, for KQL(), until EVAL or STATS (the reader allows KQL only before them)
_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


class EsqlError(ValueError):
    """What Elasticsearch would answer with a verification_exception (unknown column, type mismatch)."""


@dataclass
class EsqlResult:
    columns: dict[str, str]  # name -> ES|QL type, in the result's order
    rows: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


def run_esql(query: EsqlQuery, flat_sources: Iterable[Mapping[str, list]], fields: Mapping[str, Field]) -> EsqlResult:
    """The result of ``query`` over documents (es_fields.source_values of each _source)."""
    for name in sorted(query.fields):
        if name not in fields or fields[name].type not in ESQL_TYPES:
            raise EsqlError(f"Unknown column [{name}]" if name not in fields
                            else f"the field {name} ({fields[name].type}) is not modelled in ES|QL")
    # A KQL query on a field no index maps matches nothing in Elasticsearch (a term query on an unmapped field);
    # the model refuses it, so that a misspelt field in a rule fails here rather than never firing.
    unmapped = sorted(name for name in query.kql_fields if name not in fields)
    if unmapped:
        raise EsqlError(f"KQL() names {unmapped}, which no index maps: Elasticsearch would match nothing (refused "
                        "by the model)")
    columns = {name: ESQL_TYPES[fields[name].type] for name in sorted(query.fields)}
    rows = [{_DOCUMENT: doc, **{name: _column_value(fields[name], doc) for name in columns}} for doc in flat_sources]
    result = EsqlResult(dict(columns), rows)
    for command in query.commands:
        if command[0] == "where":
            condition = _bind_kql(command[1], fields)
            _type(condition, result.columns)
            result.rows = [row for row in result.rows if _eval(condition, row, result) is True]
        elif command[0] == "eval":
            for name, operand in command[1]:
                kind = _type(operand, result.columns)
                for row in result.rows:
                    row[name] = _eval(operand, row, result)
                result.columns[name] = kind
        else:
            _stats(command[1], command[2], result)
    for row in result.rows:
        row.pop(_DOCUMENT, None)
    return result


def ambiguities(fields_by_index: Mapping[str, Mapping[str, Field]]) -> dict[str, str]:
    """The error ES|QL gives for each field mapped as more than one ES|QL type across these indices."""
    found = {}
    names = sorted({name for fields in fields_by_index.values() for name in fields})
    for name in names:
        types: dict[str, list[str]] = {}
        for index in sorted(fields_by_index):
            field = fields_by_index[index].get(name)
            if field is not None:
                family = field_caps_type(field)
                types.setdefault(ESQL_TYPES.get(family, family), []).append(index)
        if len(types) > 1:
            described = ", ".join(f"[{kind}] in {_java_set(indices)}" for kind, indices in sorted(types.items()))
            found[name] = (f"Cannot use field [{name}] due to ambiguities being mapped as [{len(types)}] "
                           f"incompatible types: {described}")
    return found


def _java_set(indices: list[str]) -> str:
    """InvalidMappedField.makeErrorMessage: up to three index names, else the first three and a count."""
    if len(indices) <= 3:
        return "[" + ", ".join(indices) + "]"
    rest = len(indices) - 3
    return "[" + ", ".join(indices[:3]) + f"] and [{rest}] other " + ("index" if rest == 1 else "indices")


def _bind_kql(node: tuple, fields: Mapping[str, Field]) -> tuple:
    """The condition with each KQL node given the predicate its query DSL is on these fields."""
    if node[0] == "kql":
        return ("kql", node[1], compile_query(to_query_dsl(node[2], fields), fields))
    if node[0] in ("and", "or"):
        return (node[0], _bind_kql(node[1], fields), _bind_kql(node[2], fields))
    if node[0] == "not":
        return ("not", _bind_kql(node[1], fields))
    return node


def _column_value(field: Field, doc: Mapping[str, list]) -> Any:
    values = indexed_values(field, doc)
    if field.type not in TEXT_TYPES:  # doc values: sorted; keyword and ip also deduplicated
        # wildcard: binary doc values, SORTED_UNIQUE (WildcardFieldMapper.createFields).
        values = sorted(set(values)) if field.type in ("keyword", "wildcard", "ip") else sorted(values)
    return None if not values else values[0] if len(values) == 1 else tuple(values)


def _type(node: tuple, columns: Mapping[str, str]) -> str:
    """The ES|QL type of an expression; a type mismatch is an error, as Elasticsearch's verifier makes it."""
    kind = node[0]
    if kind == "column":
        return columns[node[1]]
    if kind == "string":
        return "keyword"
    if kind == "number":
        return "integer" if node[1] < 2**31 else "long"
    if kind == "boolean":
        return "boolean"
    if kind == "to_lower":
        operand = _type(node[1], columns)
        if FAMILIES[operand] != "string":
            raise EsqlError(f"argument of [TO_LOWER({_name(node[1])})] must be [string], "
                            f"found value [{_name(node[1])}] type [{operand}]")
        return "keyword"
    if kind == "case":
        if _type(node[1], columns) != "boolean":
            raise EsqlError("CASE's condition must be a boolean")
        return _type(node[2], columns)
    if kind == "compare":
        left, right = _type(node[2], columns), _type(node[3], columns)
        # Booleans are equal or not; they have no order (Equals and NotEquals take boolean, the ordering
        # comparisons do not: x-pack/plugin/esql .../predicate/operator/comparison/).
        if FAMILIES[left] != FAMILIES[right] or (left == "boolean" and node[1] not in ("==", "!=")):
            raise EsqlError(f"{node[1]} compares [{left}] with [{right}]: outside the modelled types")
        return "boolean"
    if kind == "in":
        if FAMILIES[columns[node[1][1]]] != "string":
            raise EsqlError(f"IN on {node[1][1]} [{columns[node[1][1]]}] with string literals")
        return "boolean"
    if kind in ("is_not_null", "kql"):
        return "boolean"
    for operand in node[1:]:
        if _type(operand, columns) != "boolean":
            raise EsqlError(f"{kind.upper()} takes boolean operands")
    return "boolean"


def _name(node: tuple) -> str:
    if node[0] == "boolean":
        return "true" if node[1] else "false"
    return str(node[1]) if node[0] in ("column", "string", "number") else node[0].upper()


def _eval(node: tuple, row: Mapping[str, Any], result: EsqlResult) -> Any:
    kind = node[0]
    if kind == "column":
        return row[node[1]]
    if kind in ("string", "number", "boolean"):
        return node[1]
    if kind == "is_not_null":
        return row[node[1][1]] is not None
    if kind == "kql":
        return node[2](row[_DOCUMENT])
    if kind == "to_lower":
        value = _eval(node[1], row, result)
        if isinstance(value, tuple):
            return tuple(text.lower() for text in value)
        return None if value is None else value.lower()
    if kind == "case":
        return _eval(node[2], row, result) if _eval(node[1], row, result) is True else None
    if kind == "not":
        value = _eval(node[1], row, result)
        return None if value is None else not value
    if kind in ("and", "or"):
        left, right = _eval(node[1], row, result), _eval(node[2], row, result)
        decisive = kind == "or"  # TRUE decides OR, FALSE decides AND; otherwise a null makes null
        if decisive in (left, right):
            return decisive
        return None if None in (left, right) else not decisive
    operands = [_eval(node[2], row, result), _eval(node[3], row, result)] if kind == "compare" \
        else [_eval(node[1], row, result)]
    if any(isinstance(value, tuple) for value in operands):
        result.warnings.append(MULTI_VALUE_WARNING)
        return None
    if None in operands:
        return None
    return _COMPARE[node[1]](*operands) if kind == "compare" else operands[0] in node[2]


def _stats(aggregations: list, group_by: list[str], result: EsqlResult) -> None:
    for _name, function, argument in aggregations:
        if function in ("MIN", "MAX") and result.columns[argument] not in MIN_MAX_TYPES:
            raise EsqlError(f"{function} of {argument} [{result.columns[argument]}] is not modelled")
    groups: dict[tuple, list] = {}
    if not group_by:
        groups[()] = list(result.rows)
    for row in result.rows if group_by else []:
        keys = [tuple(dict.fromkeys(row[name])) if isinstance(row[name], tuple) else (row[name],) for name in group_by]
        for key in itertools.product(*keys):
            groups.setdefault(key, []).append(row)
    columns = {}
    for name, function, argument in aggregations:
        columns[name] = "long" if function.startswith("COUNT") else result.columns[argument]
    columns.update({name: result.columns[name] for name in group_by})
    rows = []
    for key, members in groups.items():
        out = {name: _aggregate(function, argument, members) for name, function, argument in aggregations}
        out.update(zip(group_by, key, strict=True))
        rows.append(out)
    result.columns, result.rows = columns, rows


def _aggregate(function: str, argument: str | None, rows: list) -> Any:
    if argument is None:
        return len(rows)
    values = [value for row in rows for value in _each(row[argument])]
    if function == "COUNT":
        return len(values)
    if function == "COUNT_DISTINCT":  # HyperLogLog, exact below its precision threshold (3000)
        return len(set(values))
    if not values:
        return None
    return min(values) if function == "MIN" else max(values)


def _each(value: Any) -> tuple:
    return () if value is None else value if isinstance(value, tuple) else (value,)

