"""Parse a Logstash pipeline file into plain Python structures.

Covers the config grammar (sections, plugins, attributes, strings, numbers,
barewords, arrays, hashes, if/else if/else with comparisons, ``in``,
``not in``, ``!``, ``and``/``or``). Strings keep backslashes as written, as
Logstash does with its default ``config.support_escapes: false``.
"""

import re
from dataclasses import dataclass, field


class ConfigSyntaxError(ValueError):
    pass


@dataclass
class Plugin:
    name: str
    attributes: list[tuple[str, object]]

    def get(self, key: str, default=None):
        values = [value for name, value in self.attributes if name == key]
        if len(values) > 1:
            raise ConfigSyntaxError(f"plugin {self.name} sets {key} twice")
        return values[0] if values else default

    def keys(self) -> set[str]:
        return {name for name, _ in self.attributes}


@dataclass
class Conditional:
    # (condition or None for else, body)
    branches: list[tuple[object, list]] = field(default_factory=list)


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]


@dataclass(frozen=True)
class RegexLiteral:
    pattern: str


_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<dstring>"(?:\\.|[^"\\])*")
  | (?P<sstring>'(?:\\.|[^'\\])*')
  | (?P<fieldref>(?:\[[^\[\]\n"',]+\])+)
  | (?P<regexlit>/(?:\\.|[^/\\\n])*/)
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<op>=>|==|!=|<=|>=|=~|!~|[{}\[\](),<>!])
  | (?P<bareword>[A-Za-z_@][\w@.-]*)
    """,
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            line = text.count("\n", 0, position) + 1
            raise ConfigSyntaxError(f"line {line}: unexpected character {text[position]!r}")
        kind = match.lastgroup
        if kind != "space":
            tokens.append((kind, match.group(), text.count("\n", 0, position) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self, offset: int = 0):
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else ("eof", "", -1)

    def take(self, expected: str | None = None):
        token = self.peek()
        if token[0] == "eof" or (expected is not None and token[1] != expected):
            raise ConfigSyntaxError(f"line {token[2]}: expected {expected or 'a token'}, found {token[1]!r}")
        self.index += 1
        return token

    def config(self) -> dict[str, list]:
        sections: dict[str, list] = {"input": [], "filter": [], "output": []}
        while self.peek()[0] != "eof":
            kind, name, line = self.take()
            if name not in sections:
                raise ConfigSyntaxError(f"line {line}: unknown section {name!r}")
            self.take("{")
            sections[name].extend(self.body())
            self.take("}")
        return sections

    def body(self) -> list:
        items = []
        while self.peek()[1] != "}":
            if self.peek()[1] == "if":
                items.append(self.conditional())
            else:
                items.append(self.plugin())
        return items

    def plugin(self) -> Plugin:
        kind, name, line = self.take()
        if kind != "bareword":
            raise ConfigSyntaxError(f"line {line}: expected a plugin name, found {name!r}")
        self.take("{")
        attributes = []
        while self.peek()[1] != "}":
            key_kind, key, key_line = self.take()
            if key_kind not in ("bareword", "dstring", "sstring"):
                raise ConfigSyntaxError(f"line {key_line}: expected a setting name, found {key!r}")
            self.take("=>")
            attributes.append((_unquote(key) if key_kind != "bareword" else key, self.value()))
        self.take("}")
        return Plugin(name, attributes)

    def value(self):
        kind, text, line = self.peek()
        if kind in ("dstring", "sstring"):
            self.take()
            return _unquote(text)
        if kind == "number":
            self.take()
            return float(text) if "." in text else int(text)
        if text == "[" or kind == "fieldref":
            return self.array()
        if text == "{":
            return self.hash()
        if kind == "bareword":
            if self.peek(1)[1] == "{":
                return self.plugin()
            self.take()
            return {"true": True, "false": False}.get(text, text)
        raise ConfigSyntaxError(f"line {line}: expected a value, found {text!r}")

    def array(self) -> list:
        kind, text, line = self.peek()
        if kind == "fieldref":
            raise ConfigSyntaxError(f"line {line}: a field reference {text} is not a value")
        self.take("[")
        items = []
        while self.peek()[1] != "]":
            items.append(self.value())
            if self.peek()[1] == ",":
                self.take(",")
        self.take("]")
        return items

    def hash(self) -> dict:
        self.take("{")
        entries = {}
        while self.peek()[1] != "}":
            kind, key, line = self.take()
            if kind not in ("dstring", "sstring", "bareword", "number"):
                raise ConfigSyntaxError(f"line {line}: expected a hash key, found {key!r}")
            self.take("=>")
            entries[_unquote(key) if kind in ("dstring", "sstring") else key] = self.value()
            if self.peek()[1] == ",":
                self.take(",")
        self.take("}")
        return entries

    def conditional(self) -> Conditional:
        block = Conditional()
        self.take("if")
        block.branches.append((self.condition(), self.block()))
        while self.peek()[1] == "else":
            self.take("else")
            if self.peek()[1] == "if":
                self.take("if")
                block.branches.append((self.condition(), self.block()))
            else:
                block.branches.append((None, self.block()))
                break
        return block

    def block(self) -> list:
        self.take("{")
        items = self.body()
        self.take("}")
        return items

    # condition := and_expr ("or" and_expr)* ; and_expr := unary ("and" unary)*
    def condition(self):
        left = self.and_condition()
        while self.peek()[1] == "or":
            self.take("or")
            left = ("or", left, self.and_condition())
        return left

    def and_condition(self):
        left = self.unary()
        while self.peek()[1] == "and":
            self.take("and")
            left = ("and", left, self.unary())
        return left

    def unary(self):
        if self.peek()[1] == "!":
            self.take("!")
            return ("not", self.unary())
        if self.peek()[1] == "(":
            self.take("(")
            inner = self.condition()
            self.take(")")
            return inner
        left = self.rvalue()
        operator = self.peek()[1]
        if operator in ("==", "!=", "<", ">", "<=", ">=", "=~", "!~"):
            self.take()
            return (operator, left, self.rvalue())
        if operator == "in":
            self.take()
            return ("in", left, self.rvalue())
        if operator == "not" and self.peek(1)[1] == "in":
            self.take()
            self.take()
            return ("not in", left, self.rvalue())
        return ("truthy", left)

    def rvalue(self):
        kind, text, line = self.peek()
        if kind == "fieldref":
            self.take()
            return FieldRef(tuple(re.findall(r"\[([^\[\]]+)\]", text)))
        if kind == "regexlit":
            self.take()
            return RegexLiteral(text[1:-1])
        if text == "[":
            return self.array()
        return self.value()


def _unquote(token: str) -> str:
    return token[1:-1]


def parse_config(text: str) -> dict[str, list]:
    """``{"input": [...], "filter": [...], "output": [...]}`` of Plugin and Conditional items."""
    return _Parser(text).config()


def field_path(reference: str) -> tuple[str, ...]:
    """``"[a][b]"`` or ``"a"`` as a path tuple."""
    if reference.startswith("["):
        parts = re.findall(r"\[([^\[\]]+)\]", reference)
        if "".join(f"[{part}]" for part in parts) != reference:
            raise ConfigSyntaxError(f"malformed field reference {reference!r}")
        return tuple(parts)
    return (reference,)
