"""Neutralise untrusted text before it reaches a log line.

Escapes use Python string-literal syntax, so one ``unicode_escape`` decode
restores the original text exactly. Escaped: backslash, control characters
(Cc), format characters such as bidi overrides (Cf), lone surrogates (Cs) and
line/paragraph separators (Zl, Zp). The result never contains a line break of
any kind, so one value can never become two log lines.
"""

import re
import sys
import unicodedata

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# The code point ranges of _ESCAPED_CATEGORIES, per Unicode version of unicodedata, so
# no worker scans all of Unicode (0.2 s per pattern) before its first record.
# tests/test_escaping_tables.py checks each against a scan of every code point.
_ESCAPED_RANGES_BY_UNICODE_VERSION = {
    "15.0.0": (  # Python 3.12
        (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
        (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
        (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF),
        (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
    ),
}
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Quoted key=value fields must never contain a double quote: Logstash's kv
# filter has no escape syntax inside quotes.
_QUOTE_ESCAPE = "\\x22"


def scanned_ranges() -> tuple[tuple[int, int], ...]:
    """The ranges of _ESCAPED_CATEGORIES found by asking unicodedata about every code point."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in _ESCAPED_CATEGORIES:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return tuple(ranges)


def escaped_ranges() -> tuple[tuple[int, int], ...]:
    """The ranges for this Python's unicodedata: from the table, or scanned once for a version it lacks."""
    known = _ESCAPED_RANGES_BY_UNICODE_VERSION.get(unicodedata.unidata_version)
    return known if known is not None else scanned_ranges()


def _unsafe_pattern(ranges: tuple[tuple[int, int], ...], quoted: bool) -> re.Pattern[str]:
    members = [f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges]
    members.append(re.escape("\\"))
    if quoted:
        members.append('"')
    return re.compile("[" + "".join(members) + "]")


_ESCAPED_RANGES = escaped_ranges()
_UNSAFE = {quoted: _unsafe_pattern(_ESCAPED_RANGES, quoted) for quoted in (False, True)}


def _escape_char(ch: str) -> str:
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


# Escapes of the characters hostile text carries most (C0, DEL, C1, the quote), looked up instead of built.
_COMMON_ESCAPES = {ch: _escape_char(ch) for ch in map(chr, range(0xA0)) if _UNSAFE[True].fullmatch(ch)}


def _escaped_match(match: re.Match[str]) -> str:
    ch = match.group()
    return _COMMON_ESCAPES.get(ch) or _escape_char(ch)


def _escape_all(text: str, quoted: bool) -> str:
    # Python counts every character of _ESCAPED_CATEGORIES as not printable, so printable
    # text (most text) holds nothing to escape but a backslash or, quoted, a quote: one
    # C scan, and no new string. The rest (a no-break space is not printable either) is
    # left to the pattern.
    if text.isprintable() and "\\" not in text and not (quoted and '"' in text):
        return text
    return _UNSAFE[quoted].sub(_escaped_match, text)


def truncation_marker(omitted_chars: int) -> str:
    return f"...[truncated {omitted_chars} chars]"


def neutralise(text: str, max_chars: int, *, quoted: bool = False) -> str:
    """Escape ``text`` and cut it to at most ``max_chars`` escaped characters plus a marker.

    A cut never splits an escape sequence.
    """
    escaped = _escape_all(text, quoted)
    if len(escaped) <= max_chars:
        return escaped
    pattern = _UNSAFE[quoted]
    kept: list[str] = []
    size = 0
    for consumed, ch in enumerate(text):
        piece = _escape_char(ch) if pattern.fullmatch(ch) else ch
        if size + len(piece) > max_chars:
            return "".join(kept) + truncation_marker(len(text) - consumed)
        kept.append(piece)
        size += len(piece)
    raise AssertionError("unreachable: the escaped text was longer than max_chars")
