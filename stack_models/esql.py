"""A strict reader of the ES|QL the alert rules use, so their fields can be checked against the template.

It reads exactly this subset of Elasticsearch's ES|QL grammar (elastic/elasticsearch x-pack/plugin/esql/
src/main/antlr/: parser/Expression.g4 for conditions, IN, IS NOT NULL and function calls; lexer/From.g4
for the unquoted index pattern) and refuses everything else, valid ES|QL or not:
  FROM <one unquoted index pattern>
  | WHERE <condition>
  | EVAL <name> = <operand>, ...
  | STATS <name> = COUNT(*) | COUNT(<column>) | COUNT_DISTINCT(<column>) | MIN(<column>) | MAX(<column>), ...
          [BY <column>, ...]
  condition: OR, AND, NOT, parentheses; <operand> (== != < <= > >=) <operand>;
             <column> IN ("literal", ...); <column> IS NOT NULL;
             KQL("<query of stack_models/kql.py's subset>"), only in a WHERE that no EVAL or STATS precedes
  operand:   a column, a "string" (no escapes), a whole number, true or false, CASE(<condition>, <operand>),
             TO_LOWER(<operand>)
Keywords and function names in capitals only.
KQL() is the way to test a multi-valued field (event.category, event.type): a comparison or IN on a
multi-value is null (esql_run.py), KQL's term query matches any of the values. It is GA since 9.1
(x-pack/plugin/esql/.../expression/function/fulltext/Kql.java: @FunctionInfo appliesTo PREVIEW 9.0.0, GA
9.1.0), where MV_CONTAINS, the other way, is still a preview (multivalue/MvContains.java: PREVIEW 9.2.0).
FullTextFunction.java checkFullTextQueryFunctions: "[KQL] function cannot be used after <command>" for any
command before its WHERE but FROM, WHERE and SORT, and outside WHERE "only supported in WHERE and STATS". A column is a document field until EVAL or STATS
names it; after STATS only the names it made and its BY columns exist, as in ES|QL.
The reader also returns the query as a tree (EsqlQuery.commands) that esql_run.py executes; nodes are
tuples: ("column", name), ("string", text), ("number", n), ("boolean", value), ("case", condition, operand),
("to_lower", operand),
("compare", op, left, right), ("in", column, [texts]), ("is_not_null", column), ("and"|"or", left, right),
("not", condition), ("kql", text, tree of kql.read_kql); commands ("where", condition), ("eval", [(name, operand)]),
("stats", [(name, function, column or None)], [by columns]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stack_models.kql import KqlUnsupported, kql_fields, read_kql

KEYWORDS = frozenset({"FROM", "WHERE", "EVAL", "STATS", "BY", "AND", "OR", "NOT", "IN", "IS", "NULL", "CASE",
                      "TO_LOWER", "KQL"})
AGGREGATIONS = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX"})
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_TOKEN = re.compile(
    r'\s+|(?P<op>==|!=|<=|>=|[<>=(),|*])|"(?P<string>[^"\\]*)"|(?P<number>\d+)(?![\w.@])'
    r"|(?P<word>[A-Za-z_@][A-Za-z0-9_.@]*)"
)
# The source command, read before the tokens: its index pattern is not an expression.
_FROM = re.compile(r"FROM\s+(?P<index>[a-z0-9][a-z0-9_.*-]*)(?=\s|\||$)")


class EsqlUnsupported(ValueError):
    """ES|QL outside the subset read here (or not ES|QL at all)."""


@dataclass
class EsqlQuery:
    index: str
    fields: set[str] = field(default_factory=set)  # document fields the query reads as columns
    kql_fields: set[str] = field(default_factory=set)  # document fields its KQL() queries read
    aggregated: dict[str, str] = field(default_factory=dict)  # STATS name -> its function
    group_by: list[str] = field(default_factory=list)  # the last STATS' BY columns
    columns: list[str] = field(default_factory=list)  # the result's columns, once STATS ran
    commands: list[tuple] = field(default_factory=list)  # the processing commands after FROM, as trees


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise EsqlUnsupported(f"{text[pos:pos + 20]!r} at offset {pos} is outside the ES|QL subset read here")
        pos = match.end()
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group(kind)
        if kind == "word" and value.upper() in KEYWORDS | AGGREGATIONS:
            if value != value.upper():
                raise EsqlUnsupported(f"{value!r}: keywords and functions are read in capitals only")
            kind = "keyword"
        tokens.append((kind, value))
    return tokens


class _Reader:
    def __init__(self, text: str):
        self.text = text
        source = _FROM.match(text)
        if source is None:
            raise EsqlUnsupported(f"the query must start with FROM and one unquoted index pattern: {text!r}")
        self.index = source.group("index")
        self.tokens = _tokens(text[source.end():])
        self.pos = 0
        self.defined: set[str] = set()  # names EVAL made (before STATS)
        self.stats_columns: list[str] | None = None  # after STATS: the only columns there are
        self.where_only = True  # no command but WHERE so far: KQL() may be used
        self.in_where = False
        self.query: EsqlQuery | None = None

    def read(self) -> EsqlQuery:
        self.query = EsqlQuery(index=self.index)
        while self._take("op", "|"):
            command = self._expect("keyword")
            if command == "FROM":
                self._refuse("FROM is the source command: only the first")
            elif command == "WHERE":
                self.in_where = True
                self.query.commands.append(("where", self._condition()))
                self.in_where = False
            elif command == "EVAL":
                self.query.commands.append(("eval", self._eval()))
                self.where_only = False
            elif command == "STATS":
                self.query.commands.append(("stats", *self._stats()))
                self.where_only = False
            else:
                self._refuse(f"the command {command} is outside the subset")
        if self.pos != len(self.tokens):
            self._refuse("expected | or the end of the query")
        self.query.columns = list(self.stats_columns or [])
        return self.query

    # -- commands --------------------------------------------------------------------------------

    def _eval(self) -> list[tuple[str, tuple]]:
        assignments = []
        while True:
            name = self._new_name()
            self._expect("op", "=")
            assignments.append((name, self._operand()))
            if self.stats_columns is not None:
                self.stats_columns.append(name)
            else:
                self.defined.add(name)
            if not self._take("op", ","):
                return assignments

    def _stats(self) -> tuple[list, list[str]]:
        made: dict[str, str] = {}
        aggregations = []
        while True:
            name = self._new_name()
            self._expect("op", "=")
            function = self._expect("keyword")
            if function not in AGGREGATIONS:
                self._refuse(f"{function} is not an aggregation of the subset")
            self._expect("op", "(")
            argument = None if function == "COUNT" and self._take("op", "*") else self._column()
            self._expect("op", ")")
            if name in made:
                self._refuse(f"STATS names {name} twice")
            made[name] = function
            aggregations.append((name, function, argument))
            if not self._take("op", ","):
                break
        group_by = []
        if self._take("keyword", "BY"):
            group_by.append(self._column())
            while self._take("op", ","):
                group_by.append(self._column())
        self.query.aggregated.update(made)
        self.query.group_by = group_by
        self.stats_columns = [*made, *group_by]
        return aggregations, group_by

    # -- conditions and operands -------------------------------------------------------------------

    def _condition(self) -> tuple:
        node = self._and()
        while self._take("keyword", "OR"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> tuple:
        node = self._not()
        while self._take("keyword", "AND"):
            node = ("and", node, self._not())
        return node

    def _not(self) -> tuple:
        if self._take("keyword", "NOT"):
            return ("not", self._not())
        if self._take("keyword", "KQL"):
            return self._kql()
        if self._take("op", "("):  # never an operand in the subset: it groups a condition
            node = self._condition()
            self._expect("op", ")")
            return node
        return self._predicate()

    def _predicate(self) -> tuple:
        left = self._operand()
        kind, value = self._peek()
        if kind == "op" and value in COMPARISONS:
            self.pos += 1
            return ("compare", value, left, self._operand())
        if (kind, value) == ("keyword", "IN") and left[0] == "column":
            self.pos += 1
            self._expect("op", "(")
            texts = [self._expect("string")]
            while self._take("op", ","):
                texts.append(self._expect("string"))
            self._expect("op", ")")
            return ("in", left, texts)
        if (kind, value) == ("keyword", "IS") and left[0] == "column":
            self.pos += 1
            self._expect("keyword", "NOT")
            self._expect("keyword", "NULL")
            return ("is_not_null", left)
        self._refuse("expected a comparison, IN (...) or IS NOT NULL")

    def _kql(self) -> tuple:
        if not self.in_where:
            self._refuse("[KQL] function is only supported in WHERE and STATS commands")
        if not self.where_only:
            self._refuse("[KQL] function cannot be used after EVAL or STATS")
        self._expect("op", "(")
        text = self._expect("string")
        self._expect("op", ")")
        try:
            tree = read_kql(text)
        except KqlUnsupported as error:
            raise EsqlUnsupported(f"KQL({text!r}): {error}") from error
        self.query.kql_fields |= kql_fields(tree)
        return ("kql", text, tree)

    def _operand(self) -> tuple:
        kind, value = self._peek()
        if kind == "string":
            self.pos += 1
            return ("string", value)
        if kind == "number":
            self.pos += 1
            return ("number", int(value))
        # lexer/Expression.g4 TRUE : 'true', FALSE : 'false', matched in any case like every ES|QL keyword. This
        # subset reads them in lower case and refuses another spelling rather than take it for a column's name.
        if kind == "word" and value.lower() in ("true", "false"):
            if value not in ("true", "false"):
                raise EsqlUnsupported(f"{value!r}: booleans are read in lower case only")
            self.pos += 1
            return ("boolean", value == "true")
        if (kind, value) == ("keyword", "CASE"):
            self.pos += 1
            self._expect("op", "(")
            condition = self._condition()
            self._expect("op", ",")
            operand = self._operand()
            self._expect("op", ")")
            return ("case", condition, operand)
        if self._take("keyword", "TO_LOWER"):
            self._expect("op", "(")
            operand = self._operand()
            self._expect("op", ")")
            return ("to_lower", operand)
        return ("column", self._column())

    def _column(self) -> str:
        name = self._expect("word")
        if self.stats_columns is not None:
            if name not in self.stats_columns:
                self._refuse(f"{name} is not a column after STATS (columns: {', '.join(self.stats_columns)})")
        elif name not in self.defined:
            self.query.fields.add(name)
        return name

    def _new_name(self) -> str:
        name = self._expect("word")
        if "." in name or name.startswith("@") or name in self.query.fields or name in self.defined:
            self._refuse(f"{name!r} would shadow or look like a document field: name new columns plainly")
        return name

    # -- tokens ------------------------------------------------------------------------------------

    def _peek(self) -> tuple[str | None, str | None]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def _take(self, kind: str, value: str) -> bool:
        if self._peek() == (kind, value):
            self.pos += 1
            return True
        return False

    def _expect(self, kind: str, value: str | None = None) -> str:
        found = self._peek()
        if found[0] != kind or (value is not None and found[1] != value):
            self._refuse(f"expected {value or kind}, found {found[1]!r}")
        self.pos += 1
        return found[1]

    def _refuse(self, reason: str):
        raise EsqlUnsupported(f"{reason} at token {self.pos} of ES|QL {self.text!r}")


def read_esql(text: str) -> EsqlQuery:
    """The index, the document fields and the result columns of a query of the subset."""
    return _Reader(text).read()
