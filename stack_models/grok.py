"""Grok as Logstash runs it: jls-grok's expansion, evaluated by a Python model and, when given, by Joni.

Expansion and compilation follow jordansissel/ruby-grok lib/grok-pure.rb
(Grok#compile, Grok#add_patterns_from_file): every ``%{NAME:field:type}`` is
replaced by ``(?<NAME:field:type>...)`` (``(?:...)`` for a bare ``%{NAME}`` when
named_captures_only, the grok filter's default), and the result is compiled
with ``Regexp::MULTILINE``: in Ruby that makes ``.`` match a newline.

The model translates that Ruby expression to the ``regex`` module: DOTALL for
Ruby's MULTILINE, MULTILINE for Ruby's always-line-based ``^``/``$``, ASCII for
Ruby's ``\\w \\d \\s`` (while ``\\b`` stays Unicode, as in Joni), and Ruby's
``\\Z``/``\\z``. Given an engine (stack_models/joni.py), every match also runs
on Joni and any disagreement raises ``EngineDisagreement``.
"""

import re
from pathlib import Path

import pygrok
import regex

PYGROK_PATTERNS_DIR = Path(pygrok.__file__).resolve().parent / "patterns"

# Grok::PATTERN_RE of lib/grok-pure.rb, without the rarely used inline "=definition" form.
_REFERENCE = re.compile(r"%\{(?P<name>(?P<pattern>[A-z0-9]+)(?::(?P<subname>[@\[\]A-z0-9_:.-]+))?)(?P<rest>[^}]*)\}")
_ITERATIONS = 10000  # Grok#compile's iterations_left
_FLAGS = regex.DOTALL | regex.MULTILINE | regex.ASCII | regex.V0
# A safety net: a model match that runs this long is a bug in the model (regex raises TimeoutError).
MODEL_TIMEOUT_SECONDS = 30.0


class GrokError(ValueError):
    pass


class GrokTimeout(TimeoutError):
    """A match ran past the grok filter's timeout_millis (logstash-filter-grok lib/logstash/filters/grok.rb,
    GrokTimeoutException)."""


class EngineDisagreement(AssertionError):
    """The Python model and Joni disagree: the model is wrong and must be fixed."""


def load_patterns(directory: Path) -> dict[str, str]:
    """The definitions of every file in ``directory``, read as Grok#add_patterns_from_file reads them."""
    if not directory.is_dir():
        raise GrokError(f"no grok pattern directory at {directory}")
    patterns: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if path.is_file():
            patterns.update(read_patterns_file(path))
    return patterns


# Ruby's \s (ASCII only), as add_patterns_from_file's regexps use it.
_RUBY_SPACE = "[ \t\n\v\f\r]"


def read_patterns_file(path: Path) -> dict[str, str]:
    r"""Grok#add_patterns_from_file (lib/grok-pure.rb): each line (File#each keeps its "\n") that is no
    ``^\s*#`` comment is stripped of leading space, split once on ``\s+`` into name and pattern, and the
    pattern chomped; a line without a second part is skipped. A later definition of a name wins."""
    if path.is_dir():
        raise GrokError(f"{path} is a directory, not a grok patterns file")
    patterns: dict[str, str] = {}
    for line in re.findall(r"[^\n]*\n|[^\n]+\Z", path.read_text(encoding="utf-8")):
        if re.match(_RUBY_SPACE + "*#", line):
            continue
        parts = re.split(_RUBY_SPACE + "+", re.sub("\\A" + _RUBY_SPACE + "*", "", line), maxsplit=1)
        if len(parts) == 2:
            patterns[parts[0]] = re.sub(r"(?:\r\n|\n|\r)\Z", "", parts[1])  # String#chomp
    return patterns


def expand(expression: str, patterns: dict[str, str], named_captures_only: bool = True) -> str:
    """The Ruby expression jls-grok compiles for ``expression``."""
    expanded = expression
    for _ in range(_ITERATIONS):
        match = _REFERENCE.search(expanded)
        if match is None:
            return expanded
        if match["rest"].startswith("="):
            raise NotImplementedError("inline %{NAME=definition} grok references are not modelled")
        if match["pattern"] not in patterns:
            raise GrokError(f"pattern {match.group()} not defined")
        definition = patterns[match["pattern"]]
        if named_captures_only and ":" not in match["name"]:
            replacement = f"(?:{definition})"
        else:
            replacement = f"(?<{match['name']}>{definition})"
        expanded = expanded[: match.start()] + replacement + expanded[match.end() :]
    raise GrokError(f"Deep recursion pattern compilation of {expression!r}")


def ruby_to_python(expression: str) -> tuple[str, list[str]]:
    """A ``regex`` expression that matches as Ruby's does, and the Ruby name of each named group in order."""
    out, names, position, in_class = [], [], 0, 0
    while position < len(expression):
        char = expression[position]
        if char == "\\" and position + 1 < len(expression):
            escape = expression[position : position + 2]
            position += 2
            if in_class:
                out.append({"\\h": "0-9a-fA-F"}.get(escape, escape))
            else:
                # Ruby's \Z also matches before a final newline, \z only at the end; \b uses Unicode word characters.
                out.append({"\\Z": r"(?=\n?\Z)", "\\z": r"\Z", "\\b": r"(?u:\b)", "\\B": r"(?u:\B)", "\\h": "[0-9a-fA-F]"}.get(escape, escape))
            continue
        if char == "[":
            in_class += 1
            if expression.startswith("[^]", position) or expression.startswith("[]", position):
                raise NotImplementedError("a ']' first in a character class is not modelled")
        elif char == "]" and in_class:
            in_class -= 1
        elif not in_class and expression.startswith("(?<", position) and expression[position + 3] not in "=!":
            end = expression.index(">", position)
            names.append(expression[position + 3 : end])
            out.append(f"(?P<g{len(names) - 1}>")
            position = end + 1
            continue
        out.append(char)
        position += 1
    return "".join(out), names


def plain_ruby_regex(pattern: str) -> regex.Pattern:
    """``Regexp.new(pattern)`` without options, as a condition's ``=~`` and mutate's gsub compile it: ``^``/``$``
    at every line, ``.`` not across a newline."""
    python_expression, _ = ruby_to_python(pattern)
    return regex.compile(python_expression, _FLAGS & ~regex.DOTALL)


def _ruby_number(value: str | None, conversion: str):
    """Ruby's String#to_i / #to_f: the leading number, else 0 (nil stays nil)."""
    if value is None:
        return None
    if conversion == "int":
        found = re.match(r"\s*[-+]?\d+", value)
        return int(found.group()) if found else 0
    found = re.match(r"\s*[-+]?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)", value)
    return float(found.group()) if found else 0.0


class Grok:
    def __init__(self, expression: str, patterns: dict[str, str], named_captures_only: bool = True, engine=None):
        self.expression = expression
        self.expanded = expand(expression, patterns, named_captures_only)
        python_expression, self._group_names = ruby_to_python(self.expanded)
        self.regex = regex.compile(python_expression, _FLAGS)
        self.engine = engine
        # Regexp#named_captures order: each name at its first appearance, with all its groups.
        by_name: dict[str, list[str]] = {}
        for index, name in enumerate(self._group_names):
            by_name.setdefault(name, []).append(f"g{index}")
        self._slots = [(name, group) for name, groups in by_name.items() for group in groups]
        # Grok#capture's view of each slot: the field (the name split on ":") and its conversion. grok-pure.rb's
        # compile_captures_func reassigns `coerce` inside `indices.each`, so only the first group of a
        # repeated name is converted; later ones stay strings.
        self._fields: list[tuple[str, str | None]] = []
        converted = set()
        for name, _ in self._slots:
            pattern, field, conversion = (name.split(":") + [None, None])[:3]
            first = name not in converted
            converted.add(name)
            self._fields.append((field or pattern, conversion if first and conversion in ("int", "float") else None))

    def _model_captures(self, text: str, timeout: float | None) -> list[tuple[str, str | None]] | None:
        try:
            found = self.regex.search(text, timeout=MODEL_TIMEOUT_SECONDS if timeout is None else timeout)
        except TimeoutError:
            if timeout is None:
                raise
            raise GrokTimeout(f"grok ran past {timeout:g} s on {len(text)} characters: {self.expression}") from None
        if found is None:
            return None
        values = found.groupdict()
        return [(name, values[group]) for name, group in self._slots]

    def captures(self, text: str, timeout: float | None = None) -> list[tuple[str, str | None]] | None:
        """``[(group name, value or None), ...]`` as Joni gives them, or None without a match; past ``timeout``
        seconds (the filter's timeout_millis, timed on the model), GrokTimeout, unchecked on Joni."""
        model = self._model_captures(text, timeout)
        if self.engine is not None:
            # The engine raises the disagreement now, or later for a batch (stack_models/joni_batches.py).
            self.engine.check_grok(self.expanded, text, model, lambda joni: self.disagreement(text, model, joni))
        return model

    def disagreement(self, text: str, model, joni) -> EngineDisagreement:
        return EngineDisagreement(
            f"grok model and Joni disagree on {text!r}\n  expression: {self.expression}\n"
            f"  model: {model}\n  Joni:  {joni}"
        )

    def matches(self, text: str) -> bool:
        """Whether the expression matches (the multiline codec's ``grok.match != false``: only that is used,
        so only that is compared with Joni)."""
        matched = self.regex.search(text, timeout=MODEL_TIMEOUT_SECONDS) is not None
        if self.engine is not None:
            self.engine.check_match(self.expanded, text, matched, lambda joni: self.disagreement(text, matched, joni))
        return matched

    def fields(self, text: str, timeout: float | None = None) -> list[tuple[str, object]] | None:
        """``[(field, value), ...]`` as Grok#capture yields them (name split on ":", coerced), or None."""
        captures = self.captures(text, timeout)
        if captures is None:
            return None
        return [(field, value if conversion is None else _ruby_number(value, conversion))
                for (field, conversion), (_, value) in zip(self._fields, captures, strict=True)]

    def match(self, text: str) -> dict[str, object] | None:
        """``{field: value}`` of the groups that took part in the match, or None."""
        fields = self.fields(text)
        return None if fields is None else {field: value for field, value in fields if value is not None}
