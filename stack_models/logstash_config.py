"""Parse a Logstash pipeline file into plain Python structures, as strictly as Logstash does.

Follows elastic/logstash logstash-core/lib/logstash/config/grammar.treetop
(sections, plugins, attributes, strings, numbers, barewords, arrays, hashes,
if/else if/else with comparisons, ``in``, ``not in``, ``!``, ``and``/``or``),
including what it rejects: attributes without whitespace between them, arrays
without commas, commas in hashes. Strings keep backslashes as written, as
Logstash does with its default ``config.support_escapes: false``.
"""

import re

from .logstash_config_tree import Conditional, ConfigSyntaxError, FieldRef, Plugin, RegexLiteral

# Lexemes of elastic/logstash logstash-core/lib/logstash/config/grammar.treetop. A string ends at the
# first quote not preceded by a backslash: PEG choices do not backtrack, hence the possessive "*+".
_CS = re.compile(r"(?:[ \t\r\n]+|[ \t\r\n]*#[^\r\n]*(?:\r?\n|\Z))*")
_WHITESPACE = re.compile(r"[ \t\r\n]+")
_STRING = re.compile(r""""(?:\\"|[^"])*+"|'(?:\\'|[^'])*+'""", re.DOTALL)
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_BAREWORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]*)?")
_SELECTOR = re.compile(r"(?:\[[^\]\[,]+\])+")
_REGEXP = re.compile(r"/(?:\\/|[^/])*+/", re.DOTALL)
_COMPARE = re.compile(r"==|!=|<=|>=|<|>")


class _Parser:
    """A recursive-descent reading of grammar.treetop's rules, rejecting what they reject."""

    def __init__(self, text: str):
        self.text = text
        self.position = 0

    # ---- lexing helpers ----------------------------------------------------------
    def fail(self, expected: str):
        line = self.text.count("\n", 0, self.position) + 1
        found = self.text[self.position : self.position + 20] or "end of file"
        raise ConfigSyntaxError(f"line {line}: expected {expected}, found {found!r}")

    def scan(self, pattern: re.Pattern) -> str | None:
        match = pattern.match(self.text, self.position)
        if match is None:
            return None
        self.position = match.end()
        return match.group()

    def cs(self) -> None:
        self.scan(_CS)

    def at(self, literal: str) -> bool:
        return self.text.startswith(literal, self.position)

    def take(self, literal: str) -> None:
        if not self.at(literal):
            self.fail(repr(literal))
        self.position += len(literal)

    def at_keyword(self, word: str) -> bool:
        end = self.position + len(word)
        return self.at(word) and not (end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"))

    # ---- rules -------------------------------------------------------------------
    def config(self) -> dict[str, list]:
        sections: dict[str, list] = {"input": [], "filter": [], "output": []}
        self.cs()
        while self.position < len(self.text):
            name = self.scan(_NAME)
            if name not in sections:
                self.fail("input, filter or output")
            self.cs()
            self.take("{")
            sections[name].extend(self.body())
            self.take("}")
            self.cs()
        return sections

    def body(self) -> list:
        """``cs (branch_or_plugin cs)*`` up to the closing brace."""
        items = []
        self.cs()
        while not self.at("}"):
            items.append(self.conditional() if self.at_keyword("if") else self.plugin())
            self.cs()
        return items

    def name(self) -> str:
        if self.at('"') or self.at("'"):
            return self.string()
        name = self.scan(_NAME)
        if name is None:
            self.fail("a name")
        return name

    def string(self) -> str:
        token = self.scan(_STRING)
        if token is None:
            self.fail("a closed string")
        return token[1:-1]  # config.support_escapes is false: backslashes stay as written

    def plugin(self) -> "Plugin":
        name = self.name()
        self.cs()
        self.take("{")
        self.cs()
        attributes = []
        while not self.at("}"):
            key = self.name()
            self.cs()
            self.take("=>")
            self.cs()
            attributes.append((key, self.value()))
            # attributes:( attribute (whitespace cs attribute)* ) cs "}": whitespace is required between two.
            separated = self.scan(_WHITESPACE) is not None
            self.cs()
            if not separated and not self.at("}"):
                self.fail("whitespace between two attributes")
        self.take("}")
        return Plugin(name, attributes)

    def _plugin_ahead(self) -> bool:
        saved = self.position
        try:
            self.name()
            self.cs()
            return self.at("{")
        except ConfigSyntaxError:
            return False
        finally:
            self.position = saved

    def value(self):
        """``plugin / bareword / string / number / array / hash``."""
        if self._plugin_ahead():
            return self.plugin()
        if self.at('"') or self.at("'"):
            return self.string()
        if (number := self.scan(_NUMBER)) is not None:
            return float(number) if "." in number else int(number)
        if (bareword := self.scan(_BAREWORD)) is not None:
            return {"true": True, "false": False}.get(bareword, bareword)
        if self.at("["):
            return self.array()
        if self.at("{"):
            return self.hash()
        self.fail("a value")

    def array(self) -> list:
        """``"[" cs (value (cs "," cs value)*)? cs "]"``: commas between values, none trailing."""
        self.take("[")
        self.cs()
        items = []
        if not self.at("]"):
            items.append(self.value())
            self.cs()
            while self.at(","):
                self.take(",")
                self.cs()
                items.append(self.value())
                self.cs()
        if not self.at("]"):
            self.fail("',' or ']' in an array")
        self.take("]")
        return items

    def hash(self) -> dict:
        """``"{" cs (hashentry (cs hashentry)*)? cs "}"``: no commas between entries."""
        self.take("{")
        self.cs()
        entries = {}
        while not self.at("}"):
            if self.at('"') or self.at("'"):
                key = self.string()
            else:
                key = self.scan(_NUMBER) or self.scan(_BAREWORD)
                if key is None:
                    self.fail("a hash key (no commas between hash entries)")
            self.cs()
            self.take("=>")
            self.cs()
            entries[key] = self.value()
            self.cs()
        self.take("}")
        return entries

    def block(self) -> list:
        self.cs()
        self.take("{")
        items = self.body()
        self.take("}")
        return items

    def conditional(self) -> "Conditional":
        """``if (cs else_if)* (cs else)?``."""
        block = Conditional()
        self.take("if")
        self.cs()
        block.branches.append((self.condition(), self.block()))
        while True:
            saved = self.position
            self.cs()
            if not self.at_keyword("else"):
                self.position = saved
                return block
            self.take("else")
            self.cs()
            if self.at_keyword("if"):
                self.take("if")
                self.cs()
                block.branches.append((self.condition(), self.block()))
            else:
                block.branches.append((None, self.block()))
                return block

    # condition := expression (cs boolean_operator cs expression)*, modelled with "and" binding tighter.
    def condition(self):
        left = self.and_condition()
        while self._boolean("or"):
            left = ("or", left, self.and_condition())
        return left

    def and_condition(self):
        left = self.expression()
        while self._boolean("and"):
            left = ("and", left, self.expression())
        return left

    def _boolean(self, operator: str) -> bool:
        saved = self.position
        self.cs()
        if self.at_keyword("xor") or self.at_keyword("nand"):
            raise NotImplementedError("xor and nand conditions are not modelled")
        if self.at_keyword(operator):
            self.take(operator)
            self.cs()
            return True
        self.position = saved
        return False

    def expression(self):
        if self.at("("):
            self.take("(")
            self.cs()
            inner = self.condition()
            self.cs()
            self.take(")")
            return inner
        if self.at("!"):
            self.take("!")
            self.cs()
            if self.at("("):
                return ("not", self.expression())
            selector = self.scan(_SELECTOR)
            if selector is None:
                self.fail("a field reference or ( after !")
            return ("not", ("truthy", _field_ref(selector)))
        left = self.rvalue()
        saved = self.position
        self.cs()
        if self.at_keyword("in"):
            self.take("in")
            self.cs()
            return ("in", left, self.rvalue())
        if self.at("not "):
            self.take("not ")
            self.cs()
            self.take("in")
            self.cs()
            return ("not in", left, self.rvalue())
        if (operator := self.scan(re.compile(r"=~|!~"))) is not None:
            self.cs()
            if self.at("/"):
                return (operator, left, self.rvalue())
            return (operator, left, RegexLiteral(self.string()))
        if (operator := self.scan(_COMPARE)) is not None:
            self.cs()
            return (operator, left, self.rvalue())
        self.position = saved
        return ("truthy", left)

    def rvalue(self):
        """``string / number / selector / array / method_call / regexp`` (method calls are not modelled)."""
        if self.at('"') or self.at("'"):
            return self.string()
        if (number := self.scan(_NUMBER)) is not None:
            return float(number) if "." in number else int(number)
        if (selector := self.scan(_SELECTOR)) is not None:
            return _field_ref(selector)
        if self.at("["):
            return self.array()
        if (regexp := self.scan(_REGEXP)) is not None:
            return RegexLiteral(regexp[1:-1])
        self.fail("a value in a condition")


def _field_ref(selector: str) -> "FieldRef":
    return FieldRef(tuple(re.findall(r"\[([^\[\],]+)\]", selector)))


def parse_config(text: str) -> dict[str, list]:
    """``{"input": [...], "filter": [...], "output": [...]}`` of Plugin and Conditional items."""
    return _Parser(text).config()
