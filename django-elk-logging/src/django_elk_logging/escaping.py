"""Neutralise untrusted text before it reaches a log line.

Escapes use Python string-literal syntax, so the original text comes back exactly
with ``codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")``. Escaped: backslash, and every character
that is neither printable nor a space separator, by this Python's
``unicodedata``: controls (Cc), format characters such as bidi overrides (Cf),
lone surrogates (Cs), private use (Co), unassigned code points (Cn) and line and
paragraph separators (Zl, Zp). The result never contains a line break of any
kind, so one value can never become two log lines.

No table of code points is kept: ``str.isprintable`` (Python's definition: not
in categories C* or Z* other than the ASCII space) and ``unicodedata.category``
decide, so the set follows whatever Unicode version the running Python has.
Unassigned code points are escaped because a newer Unicode, and the browser
showing the log, may know them as format characters.
"""

import re
import unicodedata

_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Quoted key=value fields must never contain a double quote: Logstash's kv
# filter has no escape syntax inside quotes.
_QUOTE_ESCAPE = "\\x22"
# Not printable, yet shown as blank space by everything that displays a log: kept as they are.
_KEPT_CATEGORY = "Zs"
# The characters below U+00A0 to escape: C0 controls, DEL and C1 controls, the backslash (and the
# quote). Their categories never change between Unicode versions (Cc is immutable).
_LOW_UNSAFE = {
    False: re.compile(r'[\x00-\x1f\x7f-\x9f\\]'),
    True: re.compile(r'[\x00-\x1f\x7f-\x9f\\"]'),
}


def needs_escape(ch: str, quoted: bool = False) -> bool:
    """Whether ``ch`` (one character) is escaped."""
    if ch == "\\" or (quoted and ch == '"'):
        return True
    return not ch.isprintable() and unicodedata.category(ch) != _KEPT_CATEGORY


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


# Escapes of the characters hostile text carries most (C0, DEL, C1, the backslash, the quote), looked up, not built.
_LOW_ESCAPES = {ch: escape_char(ch) for ch in map(chr, range(0xA0)) if needs_escape(ch, quoted=True)}


def _low_escape(match: re.Match[str]) -> str:
    return _LOW_ESCAPES[match.group()]


# The space separators (Zs: not printable, yet kept) met so far, as _DecisionCache decides them: a text whose
# only other non-printable characters are these needs no second pass. Zs holds 17 characters.
_SPACE_SEPARATORS_MET: list[str] = []


class _DecisionCache(dict):
    """A ``str.translate`` table that decides each code point once, on first sight, then looks it up in C.

    At most MAX_ENTRIES are kept, so text made of ever new code points cannot grow it without bound.
    """

    MAX_ENTRIES = 65536

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        decided = escape_char(ch) if needs_escape(ch) else ch
        if not ch.isprintable() and decided == ch and ch not in _SPACE_SEPARATORS_MET:
            _SPACE_SEPARATORS_MET.append(ch)
        if len(self) < self.MAX_ENTRIES:
            self[code] = decided
        return decided


# For text the low pass has escaped already: its backslashes and quotes are its own escapes, kept.
_HIGH_TABLE = _DecisionCache({code: chr(code) for code in range(0xA0)})


def _escape_all(text: str, quoted: bool) -> str:
    # Every escaped character but the backslash and the quote is not printable, so printable text
    # (most text) is returned as it is after one C scan.
    if text.isprintable() and "\\" not in text and not (quoted and '"' in text):
        return text
    escaped = _LOW_UNSAFE[quoted].sub(_low_escape, text)
    # The escapes are printable ASCII: anything not printable left is above U+009F (a no-break
    # space, a format character...), each code point decided once and then looked up.
    if escaped.isprintable():
        return escaped
    spaced = escaped
    for space in _SPACE_SEPARATORS_MET:
        spaced = spaced.replace(space, " ")
    return escaped if spaced.isprintable() else escaped.translate(_HIGH_TABLE)


def one_word(escaped: str) -> str:
    """``escaped`` (neutralise's output) with its spaces escaped too, for a field outside quotes that a space
    would end early. neutralise doubles every backslash, so the ``\\x20`` written here is never ambiguous."""
    return escaped.replace(" ", "\\x20")


def truncation_marker(omitted_chars: int) -> str:
    return f"...[truncated {omitted_chars} chars]"


def neutralise(text: str, max_chars: int, *, quoted: bool = False) -> str:
    """Escape ``text`` and cut it to at most ``max_chars`` escaped characters plus a marker.

    A cut never splits an escape sequence.
    """
    if len(text) <= max_chars:
        escaped = _escape_all(text, quoted)
        if len(escaped) <= max_chars:
            return escaped
    kept: list[str] = []
    size = 0
    # Escaping never shortens text: past max_chars + 1 characters nothing can be kept.
    for consumed, ch in enumerate(text[: max_chars + 1]):
        piece = escape_char(ch) if needs_escape(ch, quoted) else ch
        if size + len(piece) > max_chars:
            return "".join(kept) + truncation_marker(len(text) - consumed)
        kept.append(piece)
        size += len(piece)
    raise AssertionError("unreachable: the escaped text was longer than max_chars")
