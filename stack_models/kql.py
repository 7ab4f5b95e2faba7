"""KQL of the subset the rules and dashboards use, as the query DSL it runs as, for query_dsl.py to match.

Read: field:value and field:(value or value ...) on keyword fields, and, or, not (lower case), parentheses,
values as words or "quoted" with \\" and \\\\ escapes. Everything else (free text, wildcards, ranges, nested
{...}, other spellings of the keywords, a value on another field type) is refused with KqlUnsupported.
Both implementations of KQL turn this subset into the same exact-value queries:
- Elasticsearch's, behind ES|QL's KQL() function (elastic/elasticsearch x-pack/plugin/kql/src/main/java/org/
  elasticsearch/xpack/kql/parser/KqlAstBuilder.java): a value on a keyword field is a term query (case
  sensitive: KqlQueryBuilder's case_insensitive defaults to false), and is a bool of must clauses, or one of
  should clauses with minimum_should_match 1, not a bool must_not; a field that no mapping has resolves to
  no field, match_none.
- Kibana's, in dashboards and saved searches (elastic/kibana src/platform/packages/shared/kbn-es-query/src/
  kuery/functions/is.ts): a term query on a field whose only type is keyword.
A term query matches a document when any of the field's values is the term, so an array such as
event.category [authentication, session] matches event.category:authentication (query_dsl.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stack_models.es_fields import Field

_TOKEN = re.compile(r'\s+|(?P<punct>[():])|"(?P<quoted>(?:[^"\\]|\\["\\])*)"|(?P<word>[^\s():<>"*{}\\]+)')
KEYWORDS = ("and", "or", "not")


class KqlUnsupported(ValueError):
    """KQL outside the subset read here (or not KQL at all)."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise KqlUnsupported(f"{text[pos]!r} at offset {pos} is outside the KQL subset read here: {text!r}")
        pos = match.end()
        if match.group("punct"):
            tokens.append((match.group("punct"), match.group("punct")))
        elif match.group("quoted") is not None:
            tokens.append(("value", re.sub(r"\\(.)", r"\1", match.group("quoted"))))
        elif match.group("word"):
            word = match.group("word")
            if word.lower() in KEYWORDS and word not in KEYWORDS:
                raise KqlUnsupported(f"{word!r}: and, or and not are read in lower case only")
            tokens.append((word if word in KEYWORDS else "word", word))
    return tokens


class _Reader:
    """or_query > and_query > not_query > (or_query) | field:value | field:(value or ...)."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def read(self) -> tuple:
        if not self.tokens:
            self._refuse("an empty query (match_all) is not used here")
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
        if self._take("not"):
            return ("not", self._not())
        if self._take("("):
            tree = self._or()
            self._expect(")")
            return tree
        field = self._expect("word")
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
    """The query as a tree: ("term", field, value), ("and"|"or", [trees]), ("not", tree)."""
    return _Reader(text).read()


def kql_fields(tree: tuple) -> set[str]:
    if tree[0] == "term":
        return {tree[1]}
    if tree[0] == "not":
        return kql_fields(tree[1])
    return set().union(*(kql_fields(clause) for clause in tree[1]))


def to_query_dsl(tree: tuple, fields: Mapping[str, Field]) -> dict[str, Any]:
    """The query DSL the tree runs as, on the fields of a mapping (KqlUnsupported on a non-keyword field)."""
    if tree[0] == "term":
        field = fields.get(tree[1])
        if field is not None and field.type != "keyword":
            raise KqlUnsupported(f"{tree[1]} ({field.type}): KQL is read here on keyword fields only")
        return {"term": {tree[1]: tree[2]}}  # an unmapped field matches nothing, as match_none
    if tree[0] == "not":
        return {"bool": {"must_not": [to_query_dsl(tree[1], fields)]}}
    clauses = [to_query_dsl(clause, fields) for clause in tree[1]]
    return {"bool": {"must": clauses}} if tree[0] == "and" else {"bool": {"should": clauses, "minimum_should_match": 1}}
