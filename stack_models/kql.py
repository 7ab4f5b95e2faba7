"""KQL of the subset the rules, dashboards and runbook use: its tree, its fields, the query DSL it runs as.

The one KQL reader of the project (tests/support/kibana_objects.py lists a saved object's fields with it).
Read: field:value, field:(value or value ...), field < <= > >= value, and, or, not, parentheses, values as
words or "quoted" with \\" and \\\\ escapes, and the empty query. Everything else (free text, wildcards,
nested {...}, lists with and/not, values with spaces, other escapes, quoted field names) is refused with
KqlUnsupported, never guessed. Both implementations of KQL agree on this subset:
- Kibana's, in dashboards and saved searches (elastic/kibana src/platform/packages/shared/kbn-es-query/src/
  kuery/grammar/grammar.peggy): Or = Space+ 'or'i Space+, And = Space+ 'and'i Space+, Not = 'not'i Space+
  (case-insensitive; a keyword without its spaces is part of a literal, so `not:x` names a field "not");
  NotQuery = Not SubQuery (no `not not`); RangeOperator '<=' lte, '>=' gte, '<' lt, '>' gt before a
  Literal; start = Space* OrQuery? (the empty query is is(*, *), match_all).
- Elasticsearch's, behind ES|QL's KQL() (x-pack/plugin/kql/src/main/antlr/KqlBase.g4, caseInsensitive=true,
  topLevelQuery: query? EOF, NOT subQuery=simpleQuery, fieldRangeQuery with OP_COMPARE).
Query DSL: a value on a keyword field is a term query (kuery/functions/is.ts; Elasticsearch's
KqlAstBuilder.java, case_insensitive false), and is a bool of must clauses, or one of should clauses with
minimum_should_match 1, not a bool must_not; a range is, as kuery/functions/range.ts builds it, a bool of
one should clause {"range": {field: {op: value}}} with minimum_should_match 1, the value as written (a
string: the unquoted literal is not converted, kuery/node_types/literal.ts). A field no mapping has is sent
as written and matches nothing. A term query matches a document when any of the field's values is the term,
so an array such as event.category [authentication, session] matches event.category:authentication.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stack_models.es_fields import Field

_SPACE = " \t\r\n\u00a0"  # grammar.peggy Space
_TOKEN = re.compile(
    rf'[{_SPACE}]+|(?P<punct>[():])|(?P<range><=|>=|<|>)|"(?P<quoted>(?:[^"\\]|\\["\\])*)"'
    rf'|(?P<word>[^{_SPACE}\\():<>"*{{}}]+)'
)
KEYWORDS = ("and", "or", "not")
RANGE_OPERATORS = {"<=": "lte", ">=": "gte", "<": "lt", ">": "gt"}  # grammar.peggy RangeOperator
RANGE_TYPES = ("long", "date")  # the range query_dsl.py models


class KqlUnsupported(ValueError):
    """KQL outside the subset read here (or not KQL at all)."""


def _is_space(text: str, pos: int) -> bool:
    return 0 <= pos < len(text) and text[pos] in _SPACE


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text): kind is "(", ")", ":", "range", "value" (quoted), "word" or a keyword in lower case."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise KqlUnsupported(f"{text[pos]!r} at offset {pos} is outside the KQL subset read here: {text!r}")
        pos = match.end()
        if match.group("punct"):
            tokens.append((match.group("punct"), match.group("punct")))
        elif match.group("range"):
            tokens.append(("range", RANGE_OPERATORS[match.group("range")]))
        elif match.group("quoted") is not None:
            tokens.append(("value", re.sub(r"\\(.)", r"\1", match.group("quoted"))))
        elif match.group("word"):
            word, keyword = match.group("word"), match.group("word").lower()
            # A keyword needs Space+ after it, and or/and Space+ before (grammar.peggy Or, And, Not).
            spaced = _is_space(text, pos) and (keyword == "not" or _is_space(text, match.start() - 1))
            tokens.append((keyword if keyword in KEYWORDS and spaced else "word", word))
    return tokens


class _Reader:
    """or > and > not > (or) | field:value | field:(value or ...) | field <op> value."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def read(self) -> tuple:
        if not self.tokens:
            return ("match_all",)
        tree = self._or()
        if self.pos != len(self.tokens):
            self._refuse("expected and, or or the end of the query")
        return tree

    def _or(self) -> tuple:
        clauses = [self._and()]
        while self._take("or"):
            clauses.append(self._and())
        return clauses[0] if len(clauses) == 1 else ("or", clauses)

    def _and(self) -> tuple:
        clauses = [self._not()]
        while self._take("and"):
            clauses.append(self._not())
        return clauses[0] if len(clauses) == 1 else ("and", clauses)

    def _not(self) -> tuple:
        negated = self._take("not")
        tree = self._sub_query()
        return ("not", tree) if negated else tree

    def _sub_query(self) -> tuple:
        if self._take("("):
            tree = self._or()
            self._expect(")")
            return tree
        field = self._expect("word", "value")
        if self.tokens[self.pos - 1][0] == "value":
            self._refuse("a quoted field name or free text is outside the subset")
        if self._take("range"):
            return ("range", field, self.tokens[self.pos - 1][1], self._expect("word", "value"))
        self._expect(":")
        if not self._take("("):
            return ("term", field, self._expect("word", "value"))
        values = [self._expect("word", "value")]
        while self._take("or"):
            values.append(self._expect("word", "value"))
        self._expect(")")
        return ("term", field, values[0]) if len(values) == 1 else ("or", [("term", field, v) for v in values])

    def _take(self, kind: str) -> bool:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == kind:
            self.pos += 1
            return True
        return False

    def _expect(self, *kinds: str) -> str:
        if self.pos >= len(self.tokens) or self.tokens[self.pos][0] not in kinds:
            self._refuse(f"expected {' or '.join(kinds)}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def _refuse(self, reason: str):
        raise KqlUnsupported(f"{reason} at token {self.pos} of KQL {self.text!r} (outside the subset read here)")


def read_kql(text: str) -> tuple:
    """The query as a tree: ("match_all",), ("term", field, value), ("range", field, "gt"|"gte"|"lt"|"lte",
    value), ("and"|"or", [trees]), ("not", tree)."""
    return _Reader(text).read()


def kql_fields(tree: tuple) -> set[str]:
    if tree[0] in ("term", "range"):
        return {tree[1]}
    if tree[0] == "match_all":
        return set()
    if tree[0] == "not":
        return kql_fields(tree[1])
    return set().union(*(kql_fields(clause) for clause in tree[1]))


def to_query_dsl(tree: tuple, fields: Mapping[str, Field]) -> dict[str, Any]:
    """The query DSL the tree runs as, on the fields of a mapping (KqlUnsupported on a field type not modelled)."""
    if tree[0] == "match_all":
        return {"match_all": {}}
    if tree[0] == "term":
        field = fields.get(tree[1])
        if field is not None and field.type != "keyword":
            raise KqlUnsupported(f"{tree[1]} ({field.type}): KQL is read here on keyword fields only")
        return {"term": {tree[1]: tree[2]}}  # an unmapped field matches nothing, as match_none
    if tree[0] == "range":
        field = fields.get(tree[1])
        if field is not None and field.type not in RANGE_TYPES:
            raise KqlUnsupported(f"{tree[1]} ({field.type}): a KQL range is read here on long and date fields only")
        # range.ts adds time_zone (the dateFormatTZ setting) to a date range whose value is not epoch digits:
        # not modelled, so a value without an offset is read as UTC (es_fields.parse_date).
        return {"bool": {"should": [{"range": {tree[1]: {tree[2]: tree[3]}}}], "minimum_should_match": 1}}
    if tree[0] == "not":
        return {"bool": {"must_not": [to_query_dsl(tree[1], fields)]}}
    clauses = [to_query_dsl(clause, fields) for clause in tree[1]]
    return {"bool": {"must": clauses}} if tree[0] == "and" else {"bool": {"should": clauses, "minimum_should_match": 1}}
