"""The escaped set is exactly backslash (and, quoted, the quote), the categories the module names, its
table of invisible letters and marks and, by their place, combining marks, as this Python's unicodedata
defines them, whatever its Unicode version: every code point is asked.

The package runs this suite on the oldest and the newest Python it supports, each with its own
Unicode version (Makefile, test-package-pythons).
"""

import codecs
import logging
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_elk_logging import escaping
from django_elk_logging.log_lines import SafeFormatter

# Controls, format, surrogates, private use, unassigned; every separator (the ASCII space aside).
ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
# Default_Ignorable_Code_Point outside C* and Z* (Unicode 15.1 and 16.0, DerivedCoreProperties.txt), and
# U+2800 BRAILLE PATTERN BLANK: printable, drawn as nothing or as blank space.
INVISIBLE = {
    0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164,
    *range(0xFE00, 0xFE10), 0xFFA0, *range(0xE0100, 0xE01F0),
}
EVERY_CHARACTER = [chr(code) for code in range(sys.maxunicode + 1)]


def escaped_after_a_letter(quoted: bool) -> set[str]:
    extra = {"\\", '"'} if quoted else {"\\"}
    by_category = {ch for ch in EVERY_CHARACTER if unicodedata.category(ch) in ESCAPED_CATEGORIES}
    return (by_category - {" "}) | set(map(chr, INVISIBLE)) | extra


def marks() -> set[str]:
    return {ch for ch in EVERY_CHARACTER if unicodedata.category(ch) in ("Mn", "Mc", "Me")}


@pytest.mark.parametrize("quoted", [False, True])
def test_exactly_these_characters_are_escaped_whatever_the_unicode_version(quoted):
    # Alone, a combining mark has nothing to combine with: escaped too.
    escaped = {ch for ch in EVERY_CHARACTER if escaping.neutralise(ch, 20, quoted=quoted) != ch}
    assert escaped == escaped_after_a_letter(quoted) | marks(), f"Unicode {unicodedata.unidata_version}"


@pytest.mark.parametrize("quoted", [False, True])
def test_a_text_of_every_character_after_a_letter_escapes_each_one_as_after_a_letter(quoted):
    # Through the whole-text path (the table and the marks' pass), not one character at a time.
    text = "".join("a" + ch for ch in EVERY_CHARACTER)
    escaped = escaped_after_a_letter(quoted)
    each = "".join("a" + (escaping.escape_char(ch) if ch in escaped else ch) for ch in EVERY_CHARACTER)
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
        ("\u00a0", "\\xa0"),  # Zs: no-break space
        ("\u2000", "\\u2000"),  # Zs: en quad
        ("\u200a", "\\u200a"),  # Zs: hair space
        ("\u202f", "\\u202f"),  # Zs: narrow no-break space
        ("\u3000", "\\u3000"),  # Zs: ideographic space
        ("\u115f", "\\u115f"),  # Lo: Hangul choseong filler
        ("\u1160", "\\u1160"),  # Lo: Hangul jungseong filler
        ("\u3164", "\\u3164"),  # Lo: Hangul filler
        ("\uffa0", "\\uffa0"),  # Lo: halfwidth Hangul filler
        ("\u2800", "\\u2800"),  # So: Braille pattern blank
        ("\ufe00", "\\ufe00"),  # Mn: variation selector-1
        ("\ufe0f", "\\ufe0f"),  # Mn: variation selector-16
        ("\U000e0100", "\\U000e0100"),  # Mn: variation selector-17
        ("\U000e01ef", "\\U000e01ef"),  # Mn: variation selector-256
        ("\u034f", "\\u034f"),  # Mn: combining grapheme joiner
        ("\u180b", "\\u180b"),  # Mn: Mongolian free variation selector one
        ("\u180d", "\\u180d"),  # Mn: Mongolian free variation selector three
        ("\u180f", "\\u180f"),  # Mn: Mongolian free variation selector four
        ("\u17b4", "\\u17b4"),  # Mn: Khmer vowel inherent aq
        ("\u17b5", "\\u17b5"),  # Mn: Khmer vowel inherent aa
    ],
)
def test_examples_of_each_class_between_two_letters(ch, escape):
    assert escaping.neutralise(f"a{ch}b", 100) == f"a{escape}b"


@pytest.mark.parametrize(
    ("text", "quoted", "logged"),
    [
        ("\u0301admin", False, "\\u0301admin"),  # first in the text
        ("\u0301admin", True, "\\u0301admin"),
        ("x \u0301admin", False, "x \\u0301admin"),  # after a space
        ('x"\u0301admin', False, 'x"\\u0301admin'),  # after the quote a field opens with
        ('x"\u0301admin', True, "x\\x22\\u0301admin"),
        ("user=\u0301admin", False, "user=\\u0301admin"),  # after the "=" a field opens with
        ("a\x01\u0301b", False, "a\\x01\\u0301b"),  # after an escape, over its last digit
        ("a\u00a0\u0301b", False, "a\\xa0\\u0301b"),
        ("\u0301\u0302admin", False, "\\u0301\\u0302admin"),  # a run: each follows an escape
        ("ad\u0301\u0301min", False, "ad\u0301\\u0301min"),  # a mark drawn on top of the same one
        ("ad\u0301\u0301\u0302min", False, "ad\u0301\\u0301\\u0302min"),  # and the rest of its run
        ("ad\u0301\u0302min", False, "ad\u0301\u0302min"),  # two different marks: both drawn
        ("adm\u0131\u0307n", False, "adm\u0131\u0307n"),  # a dotless i with a dot: drawn, kept
    ],
)
def test_a_combining_mark_with_nothing_of_its_own_to_combine_with_is_escaped(text, quoted, logged):
    assert escaping.neutralise(text, 100, quoted=quoted) == logged


@pytest.mark.parametrize(
    "text",
    [
        "caf\u00e9",  # é, one code point
        "cafe\u0301",  # é, e + combining acute: canonically the same text
        "\u0928\u092e\u0938\u094d\u0924\u0947",  # Hindi: नमस्ते, its vowel signs and virama
        "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",  # Thai: สวัสดี, its vowel and tone marks
        "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627",  # Arabic with its harakat
        "\u65e5\u672c\u8a9e \ud55c\uad6d\uc5b4",  # CJK ideographs and Hangul syllables
        "\u00bfQu\u00e9 tal? \u00ab oui \u00bb \u2014 \u20ac5",  # punctuation and symbols
    ],
)
def test_text_in_any_script_stays_as_it_is(text):
    assert escaping.neutralise(text, 100) == text
    assert escaping.neutralise(text, 100, quoted=True) == text


def test_an_emoji_keeps_its_symbol_and_shows_its_presentation_selector():
    assert escaping.neutralise("I \u2764\ufe0f logs", 100) == "I \u2764\\ufe0f logs"


# "admin" as it can be made to look: with invisible letters and marks, blank symbols, spaces that are not
# the ASCII space, lone and repeated marks, format characters, anywhere in the name.
LOOK_ALIKE_PIECES = [
    "", " ", "\u00a0", "\u2000", "\u2007", "\u200a", "\u202f", "\u205f", "\u3000", "\u1680",
    "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f", "\ufe0f", "\ufe00", "\U000e0100",
    "\u180b", "\u180f", "\u17b4", "\u17b5", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad",
    "\u0301", "\u0301\u0301", "\u0300",
]


def visible(line: str) -> str:
    """What a reader sees of a line: what renderers draw as nothing removed, blank space as a space, and
    the spaces that end the line dropped.

    A combining mark is drawn on the character before it: the pair is kept as it is, so "n" + U+0301 is
    not "n". Escapes are plain ASCII.
    """
    shown = []
    for ch in line:
        if ord(ch) in INVISIBLE or unicodedata.category(ch) in ("Cf", "Cc"):
            continue
        shown.append(" " if unicodedata.category(ch).startswith("Z") else ch)
    return "".join(shown).rstrip(" ")


def failed_login_line(account: str) -> str:
    """The line of a failed login naming ``account``, as signals.log_user_login_failed logs it."""
    record = logging.makeLogRecord({
        "name": "security", "levelname": "WARNING", "msg": "Login failed: %s", "args": (account,),
        "event": "user_login_failed", "user": account, "record_id": "0123456789abcdef",
    })
    return SafeFormatter("{levelname} {message}").format(record)


def variant_of_admin(insertions: list[tuple[int, str]]) -> str:
    name = list("admin")
    for position, piece in sorted(insertions, key=lambda insertion: insertion[0], reverse=True):
        name.insert(position, piece)
    return "".join(name)


VARIANTS = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(LOOK_ALIKE_PIECES)), max_size=3).map(variant_of_admin)


@given(VARIANTS, VARIANTS)
def test_two_look_alike_variants_of_admin_never_look_alike_in_a_line(first, second):
    if first != second:
        assert visible(failed_login_line(first)) != visible(failed_login_line(second))


@given(VARIANTS, st.booleans())
def test_each_variant_decodes_to_what_was_given(variant, quoted):
    logged = escaping.neutralise(variant, 100, quoted=quoted)
    assert codecs.decode(logged.encode("latin-1", "backslashreplace"), "unicode_escape") == variant


def test_the_variants_include_every_look_alike_piece_alone_and_a_line_shows_each():
    lines = {visible(failed_login_line(variant_of_admin([(5, piece)]))) for piece in LOOK_ALIKE_PIECES}
    assert len(lines) == len(LOOK_ALIKE_PIECES)
