"""The parts of a Markdown document the docs tests check: fences, code spans, headings, links.

`unresolved_links` says which relative links of a document point to no file or to no heading there.

Headings become anchors as GitHub names them (github-slugger, which github.com's renderer uses):
the heading's text lower-cased, every character that is not a letter, digit, mark, `-`, `_` or a
space dropped, spaces made `-`, and a repeated anchor suffixed `-1`, `-2`, ...
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^(?P<marks>#{1,6})[ \t]+(?P<text>[^\n]*?)[ \t]*#*[ \t]*$", re.MULTILINE)
_EXPLICIT_ANCHOR = re.compile(r'<a\s+(?:id|name)="([^"]+)"\s*>')
_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


@dataclass(frozen=True)
class Fence:
    info: str
    body: str


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str
    start: int  # offset of the heading line in the document


class Document:
    """One Markdown file; prose is its text with the fenced blocks blanked (same offsets)."""

    def __init__(self, path: Path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.fences = [Fence(m.group("info").strip(), m.group("body")) for m in _FENCE.finditer(self.text)]
        self.prose = _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), self.text)
        self.headings = _headings(self.prose)

    def code_spans(self) -> list[str]:
        """Inline code outside the fences, a span over several lines joined with single spaces."""
        return [" ".join(span.split()) for span in _CODE_SPAN.findall(self.prose)]

    def anchors(self) -> set[str]:
        return {heading.anchor for heading in self.headings} | set(_EXPLICIT_ANCHOR.findall(self.prose))

    def links(self) -> list[str]:
        """Link targets in the prose, code spans left out (`[x](y)` in code is no link)."""
        return [m.group("target") for m in _LINK.finditer(_CODE_SPAN.sub("", self.prose))]

    def section(self, heading: Heading) -> str:
        """The text under a heading, fences included, up to the next heading of its level or above."""
        later = [h.start for h in self.headings if h.start > heading.start and h.level <= heading.level]
        return self.text[heading.start : min(later, default=len(self.text))]


def unresolved_links(path: Path) -> list[str]:
    """The relative links of ``path`` whose file does not exist, or whose anchor no heading there makes."""
    found = []
    for target in Document(path).links():
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            found.append(f"{target}: no such file")
        elif anchor and linked.suffix != ".md":
            found.append(f"{target}: an anchor in a non-Markdown file")
        elif anchor and anchor not in Document(linked).anchors():
            found.append(f"{target}: no such anchor")
    return found


def github_anchor(heading_text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading_text)  # a link's text only
    text = text.replace("`", "").replace("*", "").lower()
    kept = "".join(c for c in text if c in "-_ " or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def _headings(prose: str) -> list[Heading]:
    headings, seen = [], {}
    for match in _HEADING.finditer(prose):
        anchor = github_anchor(match.group("text"))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        unique = anchor if count == 0 else f"{anchor}-{count}"
        headings.append(Heading(len(match.group("marks")), match.group("text"), unique, match.start()))
    return headings
