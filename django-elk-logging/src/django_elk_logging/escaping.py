"""Neutralise untrusted text before it reaches a log line.

Escapes use Python string-literal syntax, so the original text comes back exactly with
``codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")``. The result never
contains a line break of any kind, so one value can never become two log lines, and two texts that
differ only by characters drawn as nothing, or as blank space, never look alike. Escaped:

- the backslash (and, in a quoted field, the double quote);
- every character that is not printable by this Python's ``unicodedata`` (``str.isprintable``):
  controls (Cc), format characters such as bidi overrides and zero-width joiners (Cf), lone
  surrogates (Cs), private use (Co), unassigned code points (Cn, which a newer Unicode, and the
  browser showing the log, may know as format characters), and every separator but the ASCII space:
  line and paragraph separators (Zl, Zp) and the other space separators (Zs: U+00A0 is ``\\xa0``,
  U+3000 is ``\\u3000``), so ``admin\\xa0`` never looks like ``admin `` ;
- the default-ignorable characters that are letters or marks, which ``str.isprintable`` lets through
  yet renderers draw as nothing or as blank space (Hangul fillers, variation selectors, the combining
  grapheme joiner...), and U+2800 BRAILLE PATTERN BLANK: _INVISIBLE_PRINTABLE;
- a combining mark (M*) with nothing of its own to combine with: first in the text, or after an ASCII
  space, a double quote, an ``=`` or an escaped character, where it would be drawn over the line's own
  delimiter or over an escape's last digit; and a mark repeating the mark just before it, drawn on top
  of it (Unicode's UTS #39, section 5.4, flags such repeats). Once one mark of a run is escaped, the
  rest of the run is too: each follows an escape.

Everything else is kept as it is, so text in any script stays readable: ``é`` as one code point or as
``e`` + U+0301, ``नमस्ते`` and Thai with their vowel signs. An emoji's presentation selector is escaped
like any variation selector (``❤\\ufe0f``). Not covered (docs/security.md): look-alike letters of
other scripts (Cyrillic ``а`` for Latin ``a``), and canonically equivalent spellings (``é`` and ``e``
+ U+0301), which Unicode defines as the same text.

Apart from _INVISIBLE_PRINTABLE no table of code points is kept: ``unicodedata`` decides each
code point the first time it is met, so the set follows the Unicode version of the running Python.
"""

import re
import unicodedata

_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Quoted key=value fields must never contain a double quote: Logstash's kv
# filter has no escape syntax inside quotes.
_QUOTE_ESCAPE = "\\x22"
# Default_Ignorable_Code_Point (Unicode 15.1 and 16.0, DerivedCoreProperties.txt) outside categories C*
# and Z*, the rest of that property being escaped as not printable already; and U+2800 BRAILLE PATTERN
# BLANK (So), not ignorable but drawn as blank space. Each range is first to last, inclusive.
_INVISIBLE_PRINTABLE = (
    (0x034F, 0x034F),  # Mn COMBINING GRAPHEME JOINER
    (0x115F, 0x1160),  # Lo HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # Mn KHMER VOWEL INHERENT AQ, AA
    (0x180B, 0x180D),  # Mn MONGOLIAN FREE VARIATION SELECTOR ONE..THREE
    (0x180F, 0x180F),  # Mn MONGOLIAN FREE VARIATION SELECTOR FOUR
    (0x2800, 0x2800),  # So BRAILLE PATTERN BLANK
    (0x3164, 0x3164),  # Lo HANGUL FILLER
    (0xFE00, 0xFE0F),  # Mn VARIATION SELECTOR-1..16
    (0xFFA0, 0xFFA0),  # Lo HALFWIDTH HANGUL FILLER
    (0xE0100, 0xE01EF),  # Mn VARIATION SELECTOR-17..256
)
_INVISIBLE = frozenset(code for first, last in _INVISIBLE_PRINTABLE for code in range(first, last + 1))
# Printable text holding none of them, no backslash (nor quote) needs no escaping pass.
_INVISIBLE_CHARACTER = re.compile(
    "[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in _INVISIBLE_PRINTABLE) + "]"
)
# The escaping pass follows each escape with _ESCAPED, a control: none from the text is left as it is.
_ESCAPED = "\x01"
# Where a combining mark may need an escape, found in C: every mark is a character that is neither a word
# character (\w: letters and digits of any script) nor ASCII. A run of them first, or after a space, a quote,
# an "=" or an escape; or one repeated. Letters with their marks, in any script, match neither. The pattern
# starts with that class, so the regex engine skips to its characters without trying each position.
_MAYBE_MARK = r"[^\w\x00-\x7f]"
_MARKS_TO_CHECK = re.compile(rf'({_MAYBE_MARK})(?:(?<![^ "={_ESCAPED}].)|\1){_MAYBE_MARK}*', re.DOTALL)
_NOTHING_TO_COMBINE_WITH = frozenset({"", " ", '"', "=", _ESCAPED})


def needs_escape(ch: str, quoted: bool = False) -> bool:
    """Whether ``ch`` (one character) is escaped wherever it stands (a combining mark may be, by its place)."""
    if ch == "\\" or (quoted and ch == '"'):
        return True
    return not ch.isprintable() or ord(ch) in _INVISIBLE


def escape_char(ch: str) -> str:
    """The escape of one character, in Python string-literal syntax (the quote as ``\\x22``)."""
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    if ch == '"':
        return _QUOTE_ESCAPE
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


class _DecisionCache(dict):
    """A ``str.translate`` table that decides each code point once, on first sight, then looks it up in C.

    At most MAX_ENTRIES are kept, so text made of ever new code points cannot grow it without bound.
    """

    MAX_ENTRIES = 65536

    def __init__(self, quoted: bool):
        # ASCII, which hostile text is mostly made of, decided now: its lookups never miss.
        super().__init__((code, self._decide(chr(code), quoted)) for code in range(0x80))
        self.quoted = quoted

    @staticmethod
    def _decide(ch: str, quoted: bool) -> str:
        return escape_char(ch) + _ESCAPED if needs_escape(ch, quoted) else ch

    def __missing__(self, code: int) -> str:
        decided = self._decide(chr(code), self.quoted)
        if len(self) < self.MAX_ENTRIES:
            self[code] = decided
        return decided


_TABLES = {False: _DecisionCache(quoted=False), True: _DecisionCache(quoted=True)}


class _MarkEscapes(dict):
    """Each character's escape when it is a combining mark, else None: decided once, at most MAX_ENTRIES kept."""

    MAX_ENTRIES = 4096

    def __missing__(self, ch: str) -> str | None:
        decided = escape_char(ch) if unicodedata.category(ch)[0] == "M" else None
        if len(self) < self.MAX_ENTRIES:
            self[ch] = decided
        return decided


_MARK_ESCAPES = _MarkEscapes()


def _escape_marks(match: re.Match[str]) -> str:
    """The run ``match`` found, each combining mark in it escaped when it has nothing of its own to combine
    with: the character before it is escaped (or is the line's delimiter, or nothing), or is the same mark."""
    before = match.string[match.start() - 1] if match.start() else ""
    alone = before in _NOTHING_TO_COMBINE_WITH
    pieces = []
    for ch in match.group():
        escape = _MARK_ESCAPES[ch]
        alone = escape is not None and (alone or ch == before)
        pieces.append(escape if alone else ch)
        before = ch
    return "".join(pieces)


def _escape_all(text: str, quoted: bool) -> str:
    # Each test a scan in C. Printable ASCII text (most text) with no backslash (nor quote) is returned as it is.
    plain = text.isprintable() and "\\" not in text and not (quoted and '"' in text)
    if text.isascii():
        return text if plain else text.translate(_TABLES[quoted]).replace(_ESCAPED, "")
    escaped = text if plain and _INVISIBLE_CHARACTER.search(text) is None else text.translate(_TABLES[quoted])
    return _MARKS_TO_CHECK.sub(_escape_marks, escaped).replace(_ESCAPED, "")


def one_word(escaped: str) -> str:
    """``escaped`` (neutralise's output) with its spaces escaped too, for a field outside quotes that a space
    would end early. neutralise doubles every backslash, so the ``\\x20`` written here is never ambiguous."""
    return escaped.replace(" ", "\\x20")


def truncation_marker(omitted_chars: int) -> str:
    return f"...[truncated {omitted_chars} chars]"


# neutralise's output, as whole pieces: runs of characters kept as they are, and escapes.
_ESCAPE_SEQUENCE = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[\\nrt])")
_WHOLE_PIECES = re.compile(rf"(?:[^\\]+|{_ESCAPE_SEQUENCE.pattern})*")


def neutralise(text: str, max_chars: int, *, quoted: bool = False) -> str:
    """Escape ``text`` and cut it to at most ``max_chars`` escaped characters plus a marker.

    A cut never splits an escape sequence. The work is bounded by ``max_chars``, whatever the length
    of ``text``: escaping never shortens text, so past ``max_chars + 1`` characters nothing can be kept,
    and a character's escape depends on nothing after it.
    """
    escaped = _escape_all(text[: max_chars + 1], quoted)
    if len(escaped) <= max_chars:
        return escaped
    kept = _WHOLE_PIECES.match(escaped, 0, max_chars).group()
    # Each escape stands for one character of text, like each character kept as it is.
    unescaped, escapes = _ESCAPE_SEQUENCE.subn("", kept)
    return kept + truncation_marker(len(text) - len(unescaped) - escapes)
