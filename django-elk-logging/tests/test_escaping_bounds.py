"""Escaping works on no more than the output keeps, whatever the input's length, and its cut says exactly how
much it left out. Bounded work is shown by the memory it allocates (tracemalloc), not by timing.

bench/escaping_cost.py measures the time.
"""

import codecs
import logging
import re
import sys
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_elk_logging import escaping
from django_elk_logging.log_lines import MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, SafeFormatter

BIG = 2_400_000
# Text shapes that take each path: printable ASCII, controls to escape, non-ASCII with space separators,
# combining marks (lone and attached), invisible letters; each repeated to BIG characters.
SHAPES = {
    "ascii": "a",
    "controls": "\x01a\n",
    "non-ascii": "\u00e9\u00a0",
    "marks": "\u0301e\u0301 ",
    "invisible letters": "\u3164\ufe0f",
}
TRUNCATED = re.compile(r"\.\.\.\[truncated (\d+) chars\]\Z")


def big(unit: str) -> str:
    return (unit * (BIG // len(unit) + 1))[:BIG]


def peak_bytes_while(function, *args, **kwargs) -> int:
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def decode(logged: str) -> tuple[str, int]:
    """The text the kept part stands for, and the count the marker gives (0 without a marker)."""
    cut = TRUNCATED.search(logged)
    kept = logged[: cut.start()] if cut else logged
    return codecs.decode(kept.encode("latin-1", "backslashreplace"), "unicode_escape"), int(cut[1]) if cut else 0


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_escaping_a_huge_value_allocates_what_the_cut_keeps_not_the_value(shape, quoted):
    text = big(SHAPES[shape])
    peak = peak_bytes_while(escaping.neutralise, text, MAX_FIELD_CHARS, quoted=quoted)

    # Escaping the whole value would build at least its own size again (2.4 MB and more).
    assert peak < 64 * 1024, f"{peak} bytes"
    decoded, omitted = decode(escaping.neutralise(text, MAX_FIELD_CHARS, quoted=quoted))
    assert text.startswith(decoded) and len(decoded) + omitted == BIG


@pytest.mark.parametrize("shape", SHAPES)
def test_a_failed_login_with_a_huge_account_name_builds_its_line_from_the_cut_message(shape):
    account = big(SHAPES[shape])
    record = logging.makeLogRecord({
        "name": "security", "levelname": "WARNING", "msg": "Login failed: %s", "args": (account,),
        "event": "user_login_failed", "user": account,
    })
    formatter = SafeFormatter("{levelname} {message}")
    message_bytes = sys.getsizeof("Login failed: " + account)

    peak = peak_bytes_while(formatter.format, record)

    # logging's getMessage builds the whole message once, in C (its writer over-allocates as it grows);
    # escaping it whole would build it again, and larger.
    assert peak < 1.5 * message_bytes, f"{peak} bytes for a {message_bytes}-byte message"
    line = formatter.format(record)
    assert len(line) < MAX_MESSAGE_CHARS + MAX_FIELD_CHARS + 400


ALPHABET = st.sampled_from(["a", " ", "\\", '"', "\n", "\x01", "\u00a0", "\u0301", "\u3164", "\ufe0f", "\u00e9",
                            "\U0001f600", "\U000e0100", "\ud800"])


@given(st.lists(ALPHABET, max_size=60).map("".join), st.integers(1, 40), st.booleans())
def test_a_cut_keeps_whole_escapes_as_many_as_fit_and_counts_what_it_left_out(text, max_chars, quoted):
    logged = escaping.neutralise(text, max_chars, quoted=quoted)
    decoded, omitted = decode(logged)

    assert text.startswith(decoded) and len(decoded) + omitted == len(text)
    if omitted:
        kept = logged[: TRUNCATED.search(logged).start()]
        assert len(kept) <= max_chars
        # One more character would not have fitted: its escape, after what was kept, is longer than max_chars.
        one_more = escaping.neutralise(text[: len(decoded) + 1], 10**6, quoted=quoted)
        assert len(one_more) > max_chars
    else:
        assert len(logged) <= max_chars
