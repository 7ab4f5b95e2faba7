"""stack_models/logstash_lines.py: a file's lines as the file input hands them to its codec, read in chunks."""

import pytest

from stack_models.logstash_lines import FileLines, charset_convert


def lines_of(tmp_path, data: bytes, **options) -> tuple[list, FileLines, list]:
    path = tmp_path / "django_debug.log"
    path.write_bytes(data)
    not_utf8 = []
    reader = FileLines(path, lambda *found: not_utf8.append(found), **options)
    return list(reader), reader, not_utf8


@pytest.mark.parametrize("chunk_bytes", [1, 3, 1 << 20])
def test_lines_split_on_newline_only_keep_cr_and_empty_lines_and_leave_the_last_partial_line(tmp_path, chunk_bytes):
    found, reader, not_utf8 = lines_of(tmp_path, "a\r\n\ncafé\tb\rc\nno newline".encode(), chunk_bytes=chunk_bytes)

    assert found == [("a\r", 1), ("", 2), ("café\tb\rc", 3)]
    assert (reader.lines, reader.pending_bytes, reader.too_long_at, not_utf8) == (3, len(b"no newline"), None, [])


@pytest.mark.parametrize("chunk_bytes", [1, 5, 1 << 20])
def test_a_line_that_is_not_utf8_is_escaped_whole_and_named_with_its_first_bad_byte(tmp_path, chunk_bytes):
    data = b'ok\nx "\xc3\xa9" \xff\\ \x1b #{y}\nok\n'

    found, _, not_utf8 = lines_of(tmp_path, data, chunk_bytes=chunk_bytes)

    escaped = 'x \\"é\\" \\xFF\\\\ \\e \\#{y}'
    assert found == [("ok", 1), (escaped, 2), ("ok", 3)]
    assert not_utf8 == [(2, data.index(b"\xff"), b'x "\xc3\xa9" \xff\\ \x1b #{y}', escaped)]


def test_a_line_longer_than_the_bound_stops_the_reading_there(tmp_path):
    found, reader, _ = lines_of(tmp_path, b"first\n" + b"x" * 100 + b"\nlast\n", chunk_bytes=8, max_line_bytes=50)

    assert found == [("first", 1)]
    assert reader.too_long_at == 2


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"plain", "plain"),
        (b"\xf0\x9f\x98", "\\xF0\\x9F\\x98"),  # a character cut short: each byte
        (b"\xed\xa0\x80", "\\xED\\xA0\\x80"),  # an encoded surrogate
        (b"\x00\x7f\xc2\x85\xe2\x80\xa8\xe2\x80\xae\xff", "\\u0000\\u007F\x85\\u2028\u202e\\xFF"),
        (b"#$a #@b #c\xff", "\\#$a \\#@b #c\\xFF"),
    ],
)
def test_the_conversion_follows_ruby_string_inspect(data, text):
    # Checked against JRuby itself on every code point: tests/stack/test_check_logs.py.
    assert charset_convert(data) == text
