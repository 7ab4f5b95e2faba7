"""A grok expander: Logstash grok expressions evaluated with real pattern definitions.

Logstash compiles grok with Joni (Oniguruma, Ruby syntax). This expands
``%{NAME:field:type}`` references from pattern files and compiles the result
with the ``regex`` module, which shares the constructs the pipeline uses
(atomic groups, possessive quantifiers, lookbehind, ``\\A``/``\\Z``). Ruby's
``^``/``$`` always match at line boundaries, so patterns compile in MULTILINE.
"""

from dataclasses import dataclass
from pathlib import Path

import pygrok
import regex

REPO_ROOT = Path(__file__).resolve().parents[2]
PYGROK_PATTERNS_DIR = Path(pygrok.__file__).resolve().parent / "patterns"
# The current logstash-patterns-core definitions, present beside the checkout in CI only.
SHARED_PATTERNS_DIR = REPO_ROOT.parent / "shared" / "grok-patterns" / "ecs-v1"

_REFERENCE = regex.compile(r"%\{(?P<name>\w+)(?::(?P<field>[^:}]+))?(?::(?P<type>int|float))?\}")
_NAMED_GROUP = regex.compile(r"\(\?<(?P<field>[A-Za-z_]\w*)>")
_MAX_DEPTH = 64


class GrokError(ValueError):
    pass


def load_patterns(directory: Path) -> dict[str, str]:
    """Every ``NAME definition`` line of every file in ``directory``."""
    if not directory.is_dir():
        raise GrokError(f"no grok pattern directory at {directory}")
    patterns: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, definition = line.partition(" ")
            patterns[name] = definition.strip()
    return patterns


@dataclass(frozen=True)
class Capture:
    field: str
    conversion: str | None


class Grok:
    def __init__(self, expression: str, patterns: dict[str, str]):
        self.expression = expression
        self.captures: dict[str, Capture] = {}
        self.regex = regex.compile(self._expand(expression, patterns, 0), regex.MULTILINE | regex.V0)

    def _capture_group(self, field: str, conversion: str | None) -> str:
        group = f"capture{len(self.captures)}"
        self.captures[group] = Capture(field, conversion)
        return group

    def _expand(self, expression: str, patterns: dict[str, str], depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise GrokError(f"grok patterns nest deeper than {_MAX_DEPTH}: a pattern refers to itself")
        expression = _NAMED_GROUP.sub(lambda m: f"(?P<{self._capture_group(m['field'], None)}>", expression)

        def substitute(match: regex.Match) -> str:
            name = match["name"]
            if name not in patterns:
                raise GrokError(f"grok pattern %{{{name}}} is not defined")
            inner = self._expand(patterns[name], patterns, depth + 1)
            if match["field"] is None:
                return f"(?:{inner})"
            return f"(?P<{self._capture_group(match['field'], match['type'])}>{inner})"

        return _REFERENCE.sub(substitute, expression)

    def match(self, text: str) -> dict[str, object] | None:
        """The captured fields, as grok sets them (unmatched optional groups are absent)."""
        found = self.regex.search(text)
        if found is None:
            return None
        fields: dict[str, object] = {}
        for group, capture in self.captures.items():
            value = found.group(group)
            if value is None:
                continue
            if capture.conversion == "int":
                value = int(value)
            elif capture.conversion == "float":
                value = float(value)
            fields[capture.field] = value
        return fields
