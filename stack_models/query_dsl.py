"""Which documents a query DSL filter matches, for the clauses the alert rules use and their neighbours.

Read: bool (filter, must, must_not, should, minimum_should_match as a whole number), term, terms, exists,
match_all, range (gt, gte, lt, lte on date and long fields, _range_bound). Anything else is refused with QueryUnsupported
naming it. Scoring is not modelled (rules only filter). Sources, elastic/elasticsearch:
- bool: docs/reference/query-languages/query-dsl/query-dsl-bool-query.md (should alone needs one match;
  with must or filter, none); a larger minimum_should_match is clamped (common/lucene/search/Queries.java).
- term/terms follow the field's mapping (es_fields.py); a term on a text field is refused, as its analysis
  is not modelled; an unmapped field matches nothing (query-dsl-term-query.md, MappedFieldType.termQuery).
- term on a wildcard field: the value exactly, as on keyword (x-pack/plugin/wildcard WildcardFieldMapper.java,
  termQuery: an ngram approximation confirmed on the doc values, BinaryDvConfirmedQuery.fromTerms).
- ip term: an address or a CIDR prefix (IpFieldMapper.termQuery); long term: a decimal value matches nothing.
- exists: a field with at least one indexed value (query-dsl-exists-query.md).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from stack_models.es_fields import KEYWORD_TYPES, TEXT_TYPES, Field, indexed_values, ip_key, parse_date

BOOL_CLAUSES = frozenset({"filter", "must", "must_not", "should", "minimum_should_match"})
RANGE_BOUNDS = frozenset({"gt", "gte", "lt", "lte"})


class QueryUnsupported(ValueError):
    """Query DSL outside the subset modelled here (or not query DSL)."""


def compile_query(query: Mapping[str, Any], fields: Mapping[str, Field]) -> Callable[[Mapping[str, list]], bool]:
    """A predicate over a flattened _source (es_fields.source_values) that is true when ``query`` matches it."""
    return _compile(query, fields)


def _compile(query: Any, fields: Mapping[str, Field]) -> Callable[[Mapping[str, list]], bool]:
    if not isinstance(query, Mapping) or len(query) != 1:
        raise QueryUnsupported(f"a query clause is an object with one key, not {query!r}")
    (kind, body), = query.items()
    if kind == "match_all":
        if body:
            raise QueryUnsupported(f"match_all takes no options here: {body!r}")
        return lambda doc: True
    if kind == "bool":
        return _bool(body, fields)
    if kind in ("term", "terms", "exists", "range"):
        return _leaf(kind, body, fields)
    raise QueryUnsupported(f"the query {kind!r} is outside the modelled subset (bool, term, terms, exists, "
                           "match_all, range)")


def _bool(body: Any, fields: Mapping[str, Field]) -> Callable[[Mapping[str, list]], bool]:
    if not isinstance(body, Mapping) or set(body) - BOOL_CLAUSES:
        raise QueryUnsupported(f"bool options outside the subset: {sorted(set(body) - BOOL_CLAUSES)}")

    def clauses(name: str) -> list:
        value = body.get(name, [])
        return [_compile(item, fields) for item in (value if isinstance(value, list) else [value])]

    required = clauses("filter") + clauses("must")
    excluded = clauses("must_not")
    should = clauses("should")
    minimum = body.get("minimum_should_match", 0 if required else 1)
    if isinstance(minimum, str) and minimum.isdigit():
        minimum = int(minimum)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
        raise QueryUnsupported(f"minimum_should_match {minimum!r}: only a whole number is modelled")
    minimum = min(minimum, len(should))  # clamped to the should clauses (Queries.calculateMinShouldMatch)

    def matches(doc: Mapping[str, list]) -> bool:
        return (all(clause(doc) for clause in required) and not any(clause(doc) for clause in excluded)
                and sum(clause(doc) for clause in should) >= minimum)

    return matches


def _leaf(kind: str, body: Any, fields: Mapping[str, Field]) -> Callable[[Mapping[str, list]], bool]:
    if kind == "exists":
        if not isinstance(body, Mapping) or set(body) != {"field"}:
            raise QueryUnsupported(f"exists takes exactly a field: {body!r}")
        name = body["field"]
        leaves = [field for key, field in fields.items() if key == name or key.startswith(f"{name}.")]
        return lambda doc: any(indexed_values(field, doc) for field in leaves)
    if not isinstance(body, Mapping) or len(body) != 1:
        raise QueryUnsupported(f"{kind} takes one field here: {body!r}")
    (name, condition), = body.items()
    field = fields.get(name)
    if field is not None and field.type in TEXT_TYPES and kind != "range":
        raise QueryUnsupported(f"{kind} on the text field {name} ({field.type}) is not modelled: it is analysed")
    if kind == "range":
        return _range(name, field, condition)
    if kind == "term":
        if isinstance(condition, Mapping):
            if set(condition) != {"value"}:
                raise QueryUnsupported(f"term options outside the subset: {sorted(set(condition) - {'value'})}")
            condition = condition["value"]
        wanted = [condition]
    elif isinstance(condition, list):
        wanted = condition
    else:
        raise QueryUnsupported(f"terms on {name} takes a list of values (a terms lookup is not modelled)")
    if field is None:
        return lambda doc: False  # an unmapped field has no terms
    tests = [_term_test(field, value) for value in wanted]
    return lambda doc: any(test(value) for value in indexed_values(field, doc) for test in tests)


def _term_test(field: Field, value: Any) -> Callable[[Any], bool]:
    if isinstance(value, (dict, list)) or value is None:
        raise QueryUnsupported(f"a term value on {field.name} is a single value, not {value!r}")
    if field.type in KEYWORD_TYPES:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return lambda indexed: indexed == text
    if field.type == "ip":
        try:
            network = ipaddress.ip_network(str(value), strict=False)
        except ValueError as error:
            raise QueryUnsupported(f"{value!r} is not an IP string literal ({field.name})") from error
        low = ip_key(str(network.network_address))
        size = 2 ** (network.max_prefixlen - network.prefixlen)
        return lambda indexed: low <= indexed < low + size
    if field.type == "long":
        number = float(value) if not isinstance(value, int) else value
        if number != int(number):
            return lambda indexed: False
        return lambda indexed: indexed == int(number)
    raise QueryUnsupported(f"term on {field.name} ({field.type}) is not modelled")


def _range(name: str, field: Field | None, condition: Any) -> Callable[[Mapping[str, list]], bool]:
    if not isinstance(condition, Mapping) or set(condition) - RANGE_BOUNDS - {"format"}:
        raise QueryUnsupported(f"range on {name}: only gt, gte, lt, lte and format are modelled: {condition!r}")
    if condition.get("format", "strict_date_optional_time") != "strict_date_optional_time":
        raise QueryUnsupported(f"range on {name}: the format {condition['format']!r} is not modelled")
    if field is None:
        return lambda doc: False
    if field.type not in ("date", "long"):
        raise QueryUnsupported(f"range on {name} ({field.type}) is not modelled: only date and long")
    bounds = {bound: _range_bound(name, field, condition[bound]) for bound in RANGE_BOUNDS & set(condition)}
    tests = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b,
             "lte": lambda a, b: a <= b}
    return lambda doc: any(all(tests[bound](value, limit) for bound, limit in bounds.items())
                           for value in indexed_values(field, doc))


def _range_bound(name: str, field: Field, value: Any) -> int:
    """A bound as Elasticsearch's RangeQueryBuilder hands it to the field type: a long field parses a whole
    number or its digits (NumberFieldMapper.NumberType.LONG.parse; a decimal is rounded there: not modelled),
    a date field a strict_date_optional_time value, else epoch_millis digits, its default format tried in
    order (DateFieldMapper.DEFAULT_DATE_TIME_FORMATTER "strict_date_optional_time||epoch_millis": four digits
    are a year there)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise QueryUnsupported(f"range on {name}: the bound {value!r} is not modelled")
    if isinstance(value, str) and field.type == "date" and re.fullmatch(r"[0-9]{4}", value):
        raise QueryUnsupported(f"range on {name}: {value!r} is a year, a partial date (rounded): not modelled")
    if isinstance(value, int) or re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if field.type == "long":
        raise QueryUnsupported(f"range on {name} (long): the bound {value!r} is not a whole number")
    if "now" in value or "||" in value:
        raise QueryUnsupported(f"range on {name}: date math {value!r} is not modelled")
    try:
        return parse_date(value)
    except ValueError as error:
        raise QueryUnsupported(f"range on {name}: {error}") from error
