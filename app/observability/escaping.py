"""Neutralise untrusted text before it reaches a log line.

Escapes use Python string-literal syntax, so one ``unicode_escape`` decode
restores the original text exactly. Escaped: backslash, control characters
(Cc), format characters such as bidi overrides (Cf), lone surrogates (Cs) and
line/paragraph separators (Zl, Zp). The result never contains a line break of
any kind, so one value can never become two log lines.
"""

import functools
import re
import sys
import unicodedata

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Quoted key=value fields must never contain a double quote: Logstash's kv
# filter has no escape syntax inside quotes.
_QUOTE_ESCAPE = "\\x22"


@functools.cache
def _unsafe_pattern(quoted: bool) -> re.Pattern[str]:
    unsafe = [chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) in _ESCAPED_CATEGORIES]
    unsafe.append("\\")
    if quoted:
        unsafe.append('"')
    return re.compile("[" + "".join(re.escape(ch) for ch in unsafe) + "]")


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


def truncation_marker(omitted_chars: int) -> str:
    return f"...[truncated {omitted_chars} chars]"


def neutralise(text: str, max_chars: int, *, quoted: bool = False) -> str:
    """Escape ``text`` and cut it to at most ``max_chars`` escaped characters plus a marker.

    A cut never splits an escape sequence.
    """
    pattern = _unsafe_pattern(quoted)
    escaped = pattern.sub(lambda match: _escape_char(match.group()), text)
    if len(escaped) <= max_chars:
        return escaped
    kept: list[str] = []
    size = 0
    for consumed, ch in enumerate(text):
        piece = _escape_char(ch) if pattern.fullmatch(ch) else ch
        if size + len(piece) > max_chars:
            return "".join(kept) + truncation_marker(len(text) - consumed)
        kept.append(piece)
        size += len(piece)
    raise AssertionError("unreachable: the escaped text was longer than max_chars")
