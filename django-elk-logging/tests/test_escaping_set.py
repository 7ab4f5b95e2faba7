"""The escaped set is exactly backslash (and, quoted, the quote) plus the categories the module names,
as this Python's unicodedata defines them, whatever its Unicode version: every code point is asked.

The package runs this suite on the oldest and the newest Python it supports, each with its own
Unicode version (Makefile, test-package-pythons).
"""

import sys
import unicodedata

import pytest

from django_elk_logging import escaping

# Controls, format, surrogates, private use, unassigned; line and paragraph separators.
ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
EVERY_CHARACTER = [chr(code) for code in range(sys.maxunicode + 1)]


def expected(quoted: bool) -> set[str]:
    extra = {"\\", '"'} if quoted else {"\\"}
    return {ch for ch in EVERY_CHARACTER if unicodedata.category(ch) in ESCAPED_CATEGORIES} | extra


@pytest.mark.parametrize("quoted", [False, True])
def test_exactly_these_characters_are_escaped_whatever_the_unicode_version(quoted):
    escaped = {ch for ch in EVERY_CHARACTER if escaping.neutralise(ch, 20, quoted=quoted) != ch}
    assert escaped == expected(quoted), f"Unicode {unicodedata.unidata_version}"


@pytest.mark.parametrize("quoted", [False, True])
def test_a_text_of_every_character_escapes_each_one_as_alone(quoted):
    # Through the whole-text path (both regex passes), not one character at a time.
    text = "".join(EVERY_CHARACTER)
    escaped = expected(quoted)
    each = "".join(escaping.escape_char(ch) if ch in escaped else ch for ch in EVERY_CHARACTER)
    assert escaping.neutralise(text, len(text) * 10, quoted=quoted) == each


@pytest.mark.parametrize(
    ("ch", "escape"),
    [
        ("\u2028", "\\u2028"),  # Zl
        ("\u202e", "\\u202e"),  # Cf: right-to-left override
        ("\ue000", "\\ue000"),  # Co
        ("\U000e0001", "\\U000e0001"),  # Cf: language tag
        ("\ud800", "\\ud800"),  # Cs
        ("\U0010ffff", "\\U0010ffff"),  # Cn: a noncharacter, unassigned in every version
    ],
)
def test_examples_of_each_category(ch, escape):
    assert escaping.neutralise(f"a{ch}b", 100) == f"a{escape}b"
