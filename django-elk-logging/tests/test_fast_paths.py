"""The per-record shortcuts give exactly what the long way gave.

Escaping: printable text skips the pattern. asctime: strftime runs once per second. Record ids:
drawn from os.urandom in batches, never shared with a forked child. The file handler: one stat(2)
under the lock tells a rename and the size; the last byte is not read when the file ends where
this handler's own last record did.
"""

import fcntl
import logging
import os
import re
import sys
import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_elk_logging import escaping, log_lines
from django_elk_logging.access_lines import ACCESS_LOG_FORMAT, rendered_atoms
from django_elk_logging.log_files import CUT_MARKER, AppendOnlyFileHandler
from django_elk_logging.log_lines import SafeFormatter

FORMAT = "{levelname} {asctime} {module} {message}"
# The printable characters drawn as nothing or as blank space, by their Unicode names.
INVISIBLE_NAMES = ("HANGUL FILLER", "HANGUL CHOSEONG FILLER", "HANGUL JUNGSEONG FILLER", "VARIATION SELECTOR", "COMBINING GRAPHEME JOINER", "KHMER VOWEL INHERENT", "BRAILLE PATTERN BLANK")


def escaped_the_long_way(text: str, quoted: bool) -> str:
    """Every character asked on its own, a combining mark with the character before it."""
    pieces = []
    before = ""  # what the character before was logged as
    for index, ch in enumerate(text):
        lone_mark = unicodedata.category(ch).startswith("M") and (
            before in ("", " ", '"', "=") or before.startswith("\\") or ch == text[index - 1]
        )
        before = escaping.escape_char(ch) if escaping.needs_escape(ch, quoted) or lone_mark else ch
        pieces.append(before)
    return "".join(pieces)


TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="ascii")),
    st.lists(st.sampled_from(["a", " ", "\\", '"', "=", "\n", "\x1b", "\u00a0", "\u2028", "\u202e", "\ud800", "é", "\ue000",
                              "\u3000", "字", "\u0301", "\u0302", "\u093f", "\u3164", "\ufe0f", "\u2800", "’"])).map("".join),
)


@given(TEXT, st.booleans())
def test_neutralise_returns_what_the_pattern_alone_returns(text, quoted):
    assert escaping.neutralise(text, 10**6, quoted=quoted) == escaped_the_long_way(text, quoted)


def test_the_printable_characters_escaped_wherever_they_stand_are_the_backslash_the_quote_and_the_invisible():
    # Text with none of them and no combining mark is returned as it is: test_neutralise_examples.
    printable = [ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isprintable()]
    invisible = {ch for ch in printable if any(part in unicodedata.name(ch, "") for part in INVISIBLE_NAMES)}
    assert {ch for ch in printable if escaping.needs_escape(ch)} == {"\\"} | invisible
    assert {ch for ch in printable if escaping.needs_escape(ch, quoted=True)} == {"\\", '"'} | invisible


@pytest.mark.parametrize(
    ("text", "quoted", "expected"),
    [
        ("This is an info message", False, "This is an info message"),
        ('say "hi"', False, 'say "hi"'),
        ('say "hi"', True, "say \\x22hi\\x22"),
        ("a\\b", False, "a\\\\b"),
        ("no\u00a0break", True, "no\\xa0break"),  # a space separator but the ASCII space
        ("caf\u00e9 \u65e5\u672c", True, "caf\u00e9 \u65e5\u672c"),  # printable, no mark: as it is
        ("x\x1b[31m\r\n\x85\u2028", False, "x\\x1b[31m\\r\\n\\x85\\u2028"),
    ],
)
def test_neutralise_examples(text, quoted, expected):
    assert escaping.neutralise(text, 100, quoted=quoted) == expected


@pytest.fixture
def paris_time():
    """Local time is Europe/Paris (DST changes at 01:00 UTC), then back to what it was."""
    original = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    yield
    if original is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = original
    time.tzset()


def asctimes(formatter: logging.Formatter, instants: list[tuple[float, float]], datefmt=None) -> list[str]:
    return [
        formatter.formatTime(logging.makeLogRecord({"created": created, "msecs": msecs}), datefmt)
        for created, msecs in instants
    ]


def test_asctime_across_a_second_and_both_dst_changes(paris_time):
    formatter = SafeFormatter(FORMAT, style="{")
    spring = 1774746000  # 2026-03-29 01:00:00 UTC: 02:00 CET becomes 03:00 CEST
    autumn = 1792890000  # 2026-10-25 01:00:00 UTC: 03:00 CEST becomes 02:00 CET
    instants = [
        (spring - 1 + 0.25, 250.0), (spring - 1 + 0.999, 999.0), (spring + 0.001, 1.0),
        (autumn - 1 + 0.5, 500.0), (autumn + 0.0, 0.0), (autumn + 0.75, 750.0),
    ]

    assert asctimes(formatter, instants) == [
        "2026-03-29 01:59:59,250", "2026-03-29 01:59:59,999", "2026-03-29 03:00:00,001",
        "2026-10-25 02:59:59,500", "2026-10-25 02:00:00,000", "2026-10-25 02:00:00,750",
    ]
    assert asctimes(formatter, instants[3:5], "%H:%M:%S %z") == ["02:59:59 +0200", "02:00:00 +0100"]
    assert asctimes(formatter, instants[4:5]) == ["2026-10-25 02:00:00,000"]  # the same second, no datefmt again


def test_asctime_is_what_the_standard_formatter_writes(paris_time):
    ours, standard = SafeFormatter(FORMAT, style="{"), logging.Formatter(FORMAT, style="{")
    instants = [(1792890000 + step * 0.3, (step * 300) % 1000) for step in range(-10, 10)]

    assert asctimes(ours, instants) == asctimes(standard, instants)


def test_record_ids_are_16_hex_digits_and_never_repeat_across_draws():
    ids = [log_lines.new_record_id() for _ in range(3 * log_lines._IDS_PER_DRAW + 1)]

    assert all(re.fullmatch(r"[0-9a-f]{16}", record_id) for record_id in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_never_hands_out_the_ids_its_parent_drew():
    log_lines.new_record_id()
    parents_undealt = set(log_lines._record_ids)
    assert parents_undealt
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(writer, log_lines.new_record_id().encode())
        os._exit(0)
    os.close(writer)
    childs_id = os.read(reader, 64).decode()
    os.close(reader)
    os.waitpid(child, 0)

    assert re.fullmatch(r"[0-9a-f]{16}", childs_id)
    assert childs_id not in parents_undealt


def handler_for(path) -> logging.Logger:
    handler = AppendOnlyFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.Logger(f"fast-paths.{id(handler)}")
    logger.addHandler(handler)
    return logger


def test_a_line_another_writer_left_open_after_our_own_record_is_still_closed(tmp_path):
    path = tmp_path / "app.log"
    logger = handler_for(path)
    logger.warning("first")
    with path.open("ab") as other:
        other.write(b"half a line")  # not through the lock, no newline
    logger.warning("second")
    logger.warning("third")

    assert path.read_text() == f"first\nhalf a line{CUT_MARKER}\nsecond\nthird\n"


def test_a_record_logged_after_a_rename_goes_to_the_new_file(tmp_path):
    path = tmp_path / "app.log"
    logger = handler_for(path)
    logger.warning("before")
    path.rename(tmp_path / "app.log.1")
    logger.warning("after")
    (tmp_path / "app.log.1").rename(tmp_path / "app.log.2")
    path.rename(tmp_path / "app.log.1")
    logger.warning("after the second rename")

    assert (tmp_path / "app.log.2").read_text() == "before\n"
    assert (tmp_path / "app.log.1").read_text() == "after\n"
    assert path.read_text() == "after the second rename\n"


def test_the_access_log_renders_and_escapes_only_its_formats_atoms():
    assert rendered_atoms(ACCESS_LOG_FORMAT) == frozenset(
        {"h", "t", "r", "s", "b", "f", "a", "duration_ns", "{x-request-id}o", "record_id", "peer_ip", "pid", "host",
         "service", "service_version", "environment"}
    )
    assert rendered_atoms('%(h)s "%({X-Forwarded-For}i)s" %(D)d') == frozenset({"h", "{x-forwarded-for}i", "D"})


def test_a_forked_child_locks_its_own_open_file_not_the_parents(tmp_path):
    # flock(2) does not exclude two holders of one open file description: a child that kept the parent's
    # could append while the parent holds the lock, and see the parent's record half written.
    path = tmp_path / "app.log"
    logger = handler_for(path)
    logger.warning("parent's record")
    to_parent, from_child = os.pipe()
    to_child, from_parent = os.pipe()
    child = os.fork()
    if child == 0:
        logger.warning("child's record")
        fcntl.flock(logger.handlers[0].stream.fileno(), fcntl.LOCK_EX)  # the descriptor the child writes with
        os.write(from_child, b"locked")
        os.read(to_child, 1)
        os._exit(0)
    assert os.read(to_parent, 6) == b"locked"
    try:
        with pytest.raises(BlockingIOError):  # another description holds the lock
            fcntl.flock(logger.handlers[0].stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.write(from_parent, b"x")
        os.waitpid(child, 0)
    assert path.read_text() == "parent's record\nchild's record\n"
