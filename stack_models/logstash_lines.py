"""The lines a file input hands its codec, read from a file in chunks, as Logstash reads and decodes them.

- logstash-input-file lib/filewatch/watched_file.rb (file_read, buffer_extract) reads the file in chunks and
  a BufferedTokenizer (elastic/logstash BufferedTokenizerExt.java, extract) splits them on "\\n" only: a "\\r"
  before it stays in the line, and the bytes after the last "\\n" wait for the rest of their line. Each
  line goes to the codec (lib/filewatch/tail_mode/handlers/base.rb, controlled_read: listener.accept).
- The codec converts each line with LogStash::Util::Charset (elastic/logstash
  logstash-core/lib/logstash/util/charset.rb, convert; the plain codec, lib/logstash/codecs/plain.rb, and the
  multiline codec, lib/logstash/codecs/multiline.rb, decode, alike). With the default charset UTF-8, a
  valid line passes unchanged; any other line becomes ``String#inspect`` without its quotes (and a warning
  is logged): the WHOLE line escaped, each invalid byte as ``\\xNN`` and ``"``, ``\\``, control characters
  and ``#{``/``#$``/``#@`` as Ruby writes them in a literal. Logstash's runner sets
  ``Encoding.default_external`` to UTF-8 (logstash-core/lib/logstash/runner.rb), so printable non-ASCII
  characters stay as they are. Given an engine, every conversion is checked on JRuby itself.

Not modelled: a multibyte character split between two reads (BufferedTokenizerExt.java keeps a line's
head in a Java StringBuilder between reads), and timing (the file is read to the size it had when opened).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from .grok import EngineDisagreement

CHUNK_BYTES = 1 << 20
# The tokenizer has no limit in the file input (it would hold a line of any size in memory); a check stops
# reading a file at a line this long, so that it stays bounded in memory.
MAX_LINE_BYTES = 64 << 20

# String#inspect's short escapes (rb_str_inspect; the same in JRuby's RubyString.inspect).
_INSPECT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f", "\v": "\\v", "\b": "\\b", "\a": "\\a",
                    "\x1b": "\\e", '"': '\\"', "\\": "\\\\"}
# Not printable for Ruby's UTF-8 (checked on JRuby over every code point): control characters but NEL,
# unassigned code points, line and paragraph separators. A code point assigned after the Unicode version
# of the JRuby at hand is unassigned there, so it is escaped there and not here.
_UNPRINTABLE = frozenset({"Cc", "Cn", "Zl", "Zp"})


def charset_convert(data: bytes) -> str:
    """The text LogStash::Util::Charset#convert makes of one line's bytes (charset UTF-8)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # surrogateescape: each byte that is not part of a valid character becomes U+DC80..U+DCFF.
    text = data.decode("utf-8", "surrogateescape")
    out = []
    for index, char in enumerate(text):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02X}")
        elif char in _INSPECT_ESCAPES:
            out.append(_INSPECT_ESCAPES[char])
        elif char == "#" and text[index + 1 : index + 2] in ("{", "$", "@"):
            out.append("\\#")
        elif code != 0x85 and unicodedata.category(char) in _UNPRINTABLE:
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\u{{{code:X}}}")
        else:
            out.append(char)
    return "".join(out)


class FileLines:
    """The lines of one file as its input's codec gets them, with their 1-based line numbers, read in chunks.

    ``on_not_utf8(line number, byte offset, line's bytes, converted text)`` is told of each line that is not
    UTF-8. Once iterated, ``pending_bytes`` is the size of a last line without its newline (which Logstash
    holds until the newline comes), and ``too_long_at`` the number of a line over MAX_LINE_BYTES, where
    reading stopped.
    """

    def __init__(self, path: Path, on_not_utf8: Callable[[int, int, bytes, str], None] | None = None, engine=None,
                 chunk_bytes: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES):
        self.path = path
        self.on_not_utf8 = on_not_utf8
        self.engine = engine
        self.chunk_bytes = chunk_bytes
        self.max_line_bytes = max_line_bytes
        self.bytes_read = 0
        self.lines = 0
        self.pending_bytes = 0
        self.too_long_at: int | None = None

    def __iter__(self) -> Iterator[tuple[str, int]]:
        with self.path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size  # a file still written to is read to this size
            # An unfinished line's chunks, joined only once its newline comes: a long line is copied once.
            pending: list[bytes] = []
            pending_size, offset = 0, 0  # offset: where ``pending`` starts in the file
            while self.bytes_read < size:
                chunk = file.read(min(self.chunk_bytes, size - self.bytes_read))
                if not chunk:
                    break
                self.bytes_read += len(chunk)
                end = chunk.rfind(b"\n") + 1
                if end == 0:
                    pending.append(chunk)
                    pending_size += len(chunk)
                    if pending_size > self.max_line_bytes:
                        self.too_long_at = self.lines + 1
                        return
                    continue
                yield from self._lines(b"".join([*pending, chunk[:end]]), offset)
                offset += pending_size + end
                pending, pending_size = [chunk[end:]], len(chunk) - end
            self.pending_bytes = pending_size

    def _lines(self, data: bytes, offset: int) -> Iterator[tuple[str, int]]:
        """The lines of ``data`` (whole lines, from byte ``offset`` of the file)."""
        try:
            lines = data.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            yield from self._checked_lines(data, offset)
            return
        number = self.lines
        for line in lines[:-1]:
            number += 1
            yield line, number
        self.lines = number

    def _checked_lines(self, data: bytes, offset: int) -> Iterator[tuple[str, int]]:
        """Line by line, for a chunk that holds bytes that are not UTF-8."""
        for raw in data.split(b"\n")[:-1]:
            self.lines += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                text = charset_convert(raw)
                if self.engine is not None:
                    self.engine.check_charset(raw, text, _disagreement(raw, text))
                if self.on_not_utf8 is not None:
                    self.on_not_utf8(self.lines, offset + error.start, raw, text)
            yield text, self.lines
            offset += len(raw) + 1


def _disagreement(raw: bytes, model: str) -> Callable[[object], EngineDisagreement]:
    return lambda real: EngineDisagreement(f"charset model and JRuby disagree on {raw!r}: {model!r} != {real!r}")
