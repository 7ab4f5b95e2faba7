"""The escaped set is exactly Unicode's Cc, Cf, Cs, Zl and Zp, as this Python's unicodedata defines them.

escaping.py takes the ranges from a table per Unicode version instead of scanning all of
Unicode in every worker; here every code point is asked, and the compiled patterns compared.
"""

import sys
import unicodedata

from django_elk_logging import escaping

CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


def scan() -> set[int]:
    return {code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) in CATEGORIES}


def code_points(ranges) -> set[int]:
    return {code for first, last in ranges for code in range(first, last + 1)}


def test_this_pythons_unicode_version_has_a_table():
    version = unicodedata.unidata_version
    assert version in escaping._ESCAPED_RANGES_BY_UNICODE_VERSION, (
        f"no table for Unicode {version}: every worker would scan all of Unicode. Add it: {escaping.scanned_ranges()}"
    )


def test_the_patterns_escape_exactly_these_categories_plus_backslash_and_in_quotes_the_quote():
    expected = scan()

    assert code_points(escaping.escaped_ranges()) == expected
    assert {ord(ch) for ch in escaping._UNSAFE[False].findall(EVERY_CHARACTER)} == expected | {ord("\\")}
    assert {ord(ch) for ch in escaping._UNSAFE[True].findall(EVERY_CHARACTER)} == expected | {ord("\\"), ord('"')}


def test_the_fallback_scan_for_a_version_without_a_table_finds_the_same_set():
    assert code_points(escaping.scanned_ranges()) == scan()
