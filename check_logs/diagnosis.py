"""Why an event failed: which grok expression came closest, and the part of it that did not match.

Each expression the failing grok filter tried is cut into its top-level parts (``%{...}`` references,
groups, character classes, escapes, literal text). The longest prefix of those parts that still
matches at the start of the event's text says how far the expression got: the next part is the one
that failed. The column given is where the engine's first match of that prefix ends (a lazy part such
as %{DATA} may match less there than the whole expression would try). The prefixes are compiled as the filter
compiles its expression (its pattern definitions and patterns_dir, on the pipeline's engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from stack_models.grok import Grok
from stack_models.logstash_config_tree import field_path, plugins
from stack_models.logstash_filters import JVM_TIME_ZONE
from stack_models.logstash_pipeline import GrokMatch, Pipeline

# The named group that measures how far a prefix matched (never a name a pipeline's field uses).
_REACH = "check_logs_reach"
_QUANTIFIER_START = "?*+{"
TEXT_THERE_CHARS = 60


@dataclass(frozen=True)
class Closest:
    """How far the closest expression got on one event's text."""

    plugin_id: str
    source: str
    index: int  # the expression's place in the filter's list
    expression: str
    matched_parts: int
    parts: int
    failed_part: str  # "" when the whole expression matched, which a failed grok never shows
    offset: int  # where the matched prefix ended, in characters from the start of the text
    line: int  # 1-based line and column of that offset within the event's text
    column: int


def parts(expression: str) -> list[str]:
    """The top-level parts of a grok expression; consecutive plain characters make one literal part."""
    found: list[str] = []
    position, literal = 0, False
    while position < len(expression):
        start = position
        char = expression[position]
        if expression.startswith("%{", position):
            position = expression.index("}", position) + 1
        elif char == "\\":
            position += 2
        elif char == "(":
            position = _closing(expression, position, "(", ")")
        elif char == "[":
            position = _closing(expression, position, "[", "]")
        else:
            position += 1
        position = _after_quantifier(expression, position)
        piece = expression[start:position]
        plain = len(piece) == 1 and char not in "^$.|" or _escaped_literal(piece)
        if plain and literal:
            found[-1] += piece
        else:
            found.append(piece)
        literal = plain
    return found


def _escaped_literal(piece: str) -> bool:
    """``\\[`` and the like: an escaped punctuation character, which matches itself."""
    return len(piece) == 2 and piece[0] == "\\" and not piece[1].isalnum()


def _closing(expression: str, position: int, opening: str, closing: str) -> int:
    """The index just after the ``closing`` that ends the group or class opened at ``position``."""
    depth, index, in_class = 0, position, False
    while index < len(expression):
        char = expression[index]
        if char == "\\":
            index += 2
            continue
        if opening == "(" and char == "[" and not in_class:
            in_class = True
        elif opening == "(" and char == "]" and in_class:
            in_class = False
        elif not in_class and char == opening:
            depth += 1
        elif not in_class and char == closing:
            depth -= 1
            if depth == 0:
                return index + 1
        if opening == "[" and char == "]" and index > position:
            return index + 1
        index += 1
    raise ValueError(f"unbalanced {opening} in {expression!r}")


def _after_quantifier(expression: str, position: int) -> int:
    if position < len(expression) and expression[position] in _QUANTIFIER_START:
        if expression[position] == "{":
            end = expression.find("}", position)
            if end == -1 or not all(char.isdigit() or char == "," for char in expression[position + 1 : end]):
                return position
            position = end + 1
        else:
            position += 1
        if position < len(expression) and expression[position] in "?+":  # lazy or possessive
            position += 1
    return position


class Diagnosis:
    """Finds, for a failed event, the expression of its failed grok filter that came closest."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self._matches = pipeline.grok_matches()
        self._prefixes: dict[tuple[int, int], Grok] = {}  # (match's position, parts) -> compiled prefix
        # An expression with a top-level alternative has no meaningful prefixes: it is one part.
        self._parts = [pieces if "|" not in pieces else [match.expression]
                       for match, pieces in ((match, parts(match.expression)) for match in self._matches)]

    def sources(self) -> list[str]:
        """The fields the grok filters match: their text is kept before filtering, for ``closest``."""
        return sorted({match.source for match in self._matches})

    def closest(self, tags: list[str], ran: list[str], texts: dict[str, object]) -> Closest | None:
        """The closest expression of the grok filters that ran and failed (all their failure tags are on the
        event), on ``texts`` (each grok source's value before the filters ran); None if no grok failed."""
        best: Closest | None = None
        for position, match in enumerate(self._matches):
            if match.plugin_id not in ran or not match.failure_tags or not set(match.failure_tags) <= set(tags):
                continue
            text = texts.get(match.source)
            found = self._reach(position, match, "" if text is None else str(text))
            if best is None or (found.offset, found.matched_parts) > (best.offset, best.matched_parts):
                best = found
        return best

    def _reach(self, position: int, match: GrokMatch, text: str) -> Closest:
        pieces = self._parts[position]
        matched, offset = 0, 0
        for count in range(1, len(pieces) + 1):
            captures = self._prefix(position, match, count).captures(text)
            if captures is None:
                break
            matched, offset = count, len(dict(captures)[_REACH] or "")
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        failed = pieces[matched] if matched < len(pieces) else ""
        return Closest(match.plugin_id, match.source, match.index, match.expression, matched, len(pieces), failed,
                       offset, line, column)

    def _prefix(self, position: int, match: GrokMatch, count: int) -> Grok:
        key = (position, count)
        if key not in self._prefixes:
            prefix = "".join(self._parts[position][:count])
            self._prefixes[key] = match.compile(self.pipeline.library, rf"\A(?<{_REACH}>{prefix})")
        return self._prefixes[key]


def source_texts(event, sources: list[str]) -> dict[str, object]:
    """Each grok source's value in ``event`` (taken before the filters run)."""
    return {source: event.get_field(field_path(source)) for source in sources}


def grok_reason(closest: Closest, text: str) -> dict:
    """``closest`` as the report gives it, with the text where the failed part should have matched."""
    there = text[closest.offset :]  # across lines: where a line ends, the event may go on
    return {"kind": "grok", "plugin": closest.plugin_id, "source": closest.source, "expression": closest.index,
            "matched_parts": closest.matched_parts, "parts": closest.parts, "failed_part": closest.failed_part,
            "line": closest.line, "column": closest.column, "text_there": there[:TEXT_THERE_CHARS],
            "text_there_omitted_chars": max(0, len(there) - TEXT_THERE_CHARS)}


def date_reason(pipeline: Pipeline, event, ran: list[str]) -> dict | None:
    """The date filter that ran and failed: the text it read, its formats and zone."""
    for plugin in plugins(pipeline.config["filter"]):
        if plugin.name == "date" and plugin.get("id") in ran:
            loaded = pipeline.loaded(plugin)
            source, *formats = loaded.get("match")
            if loaded.get("tag_on_failure", ["_dateparsefailure"])[0] not in event.get("tags", []):
                continue
            value = event.get_field(field_path(source))
            return {"kind": "date", "plugin": loaded.get("id"), "field": source, "value": str(value)[:TEXT_THERE_CHARS],
                    "formats": formats, "time_zone": loaded.get("timezone") or JVM_TIME_ZONE}
    return None
