"""The file input and its multiline codec: which input reads a file, and the events it makes of its text."""

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .grok import EngineDisagreement
from .logstash_config_tree import Plugin, field_path
from .logstash_events import Event
from .logstash_options import require_options
from .logstash_patterns import PatternLibrary, patterns_dir_files
from .logstash_sincedb import clean_after_seconds

# Ruby negates a class with "[!" or "[^", Python's fnmatch with "[!" only: neither is modelled.
_NEGATED_CLASS = re.compile(r"\[[!^]")


def path_matches(pattern: str, file_name: str) -> bool:
    """Whether a file input ``path`` entry (a Dir.glob pattern) matches ``file_name`` in its folder.

    Only ``*``, ``?`` and a plain class such as ``[0-9]`` in the last component are modelled
    (logstash-input-file lib/filewatch/discoverer.rb expands ``path`` with Dir.glob).
    """
    folder, _, name = pattern.rpartition("/")
    if any(char in folder for char in "*?[{") or any(char in name for char in "{\\") or _NEGATED_CLASS.search(name):
        raise NotImplementedError(f"the file input path {pattern!r} uses glob syntax that is not modelled")
    return _name_matches(name, file_name)


def _excluded(pattern: str, file_name: str, engine=None) -> bool:
    """Whether a file input ``exclude`` entry drops ``file_name``: lib/filewatch/discoverer.rb
    (can_exclude?) matches it against the basename with Pathname#fnmatch?, no flags."""
    if any(char in pattern for char in "/[{\\"):
        raise NotImplementedError(f"the file input exclude {pattern!r} uses glob syntax that is not modelled")
    excluded = _name_matches(pattern, file_name)
    if engine is not None and engine.fnmatch(pattern, file_name) != excluded:
        raise EngineDisagreement(f"exclude model and Ruby's fnmatch? disagree on {file_name!r} for {pattern!r}")
    return excluded


def _name_matches(pattern: str, file_name: str) -> bool:
    """Ruby's File.fnmatch without flags, as Dir.glob and Pathname#fnmatch? use it: ``*`` and ``?``
    never match a leading dot."""
    return fnmatch.fnmatchcase(file_name, pattern) and not (file_name.startswith(".") and not pattern.startswith("."))


def file_input_for(inputs: list, file_name: str, engine=None) -> Plugin:
    """The one file input of ``inputs`` whose ``path`` patterns match ``file_name`` (a live or a rotated name)."""
    matches = reading_inputs(inputs, file_name, engine)
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} file inputs read {file_name}")
    return matches[0]


def reading_inputs(inputs: list, file_name: str, engine=None) -> list[Plugin]:
    """The file inputs of ``inputs`` that read ``file_name``: a ``path`` pattern matches it and no ``exclude`` drops it."""
    return [
        plugin
        for plugin in inputs
        if isinstance(plugin, Plugin)
        and any(path_matches(pattern, file_name) for pattern in plugin.get("path", []))
        and not any(_excluded(pattern, file_name, engine) for pattern in plugin.get("exclude", []))
    ]


def excluding_patterns(inputs: list, file_name: str, engine=None) -> list[str]:
    """The ``exclude`` entries that drop ``file_name`` from a file input whose ``path`` matches it."""
    return [
        pattern
        for plugin in inputs
        if isinstance(plugin, Plugin) and any(path_matches(path, file_name) for path in plugin.get("path", []))
        for pattern in plugin.get("exclude", [])
        if _excluded(pattern, file_name, engine)
    ]


def read_file_input(plugin: Plugin, file_path: Path, text: str, library: PatternLibrary) -> list[Event]:
    """The events the file input ``plugin`` (its ``${VAR}`` substituted, with its codec) makes of ``text``,
    complete lines only."""
    # logstash-input-file lib/filewatch/watched_file.rb (buffer_extract): a BufferedTokenizer splits on the
    # delimiter "\n" only, so a "\r" before it stays in the line; a line without its newline waits.
    # Empty lines are passed on too (elastic/logstash BufferedTokenizerExt.java, extract: split with
    # limit -1), each to listener.accept (lib/filewatch/tail_mode/handlers/base.rb, controlled_read).
    lines = ((line, None) for line in text.split("\n")[:-1])
    return [event for event, _ in stream_file_input(plugin, file_path, lines, library)]


def stream_file_input(plugin: Plugin, file_path: Path, lines: Iterable[tuple[str, object]],
                      library: PatternLibrary) -> Iterator[tuple[Event, object]]:
    """The events the file input ``plugin`` (its ``${VAR}`` substituted, with its codec) makes of ``lines``, one
    at a time, each with the mark given with its first line. ``lines`` are the input's lines as its codec gets
    them, each with a mark of the caller's (stack_models/logstash_lines.py reads a file so, in chunks)."""
    # stat_interval and discover_interval only set when lines are read (the latency budget test
    # checks them), sincedb_write_interval how much a crash replays (the replay test checks it),
    # sincedb_clean_after when a file met again is read from byte 0 (stack_models/logstash_sincedb.py);
    # what is read of a file read once does not depend on them.
    require_options(
        plugin,
        {"path", "exclude", "start_position", "sincedb_path", "mode", "codec", "stat_interval", "discover_interval",
         "sincedb_write_interval", "sincedb_clean_after"},
    )
    clean_after_seconds(plugin)  # a value FriendlyDurations refuses stops the pipeline from loading
    if plugin.get("mode", "tail") != "tail":
        raise AssertionError(f"file input for {file_path.name} is not in tail mode: read mode deletes files")
    codec = plugin.get("codec")
    added = [(field_path(reference), value) for reference, value in plugin.get("add_field", {}).items()]
    path = str(file_path)
    if codec is None:  # the plain codec: one event a line, an empty line too
        messages = ((line, [], mark) for line, mark in lines)
    else:
        messages = MultilineCodec(codec, library).events(lines)
    for message, tags, mark in messages:
        event = Event(
            {
                "@timestamp": dt.datetime.now(dt.timezone.utc),
                "@version": "1",
                "message": message,
                "event": {"original": message},
                "log": {"file": {"path": path}},
                "host": {"name": "logstash"},
            }
        )
        for tag in tags:
            event.add_tag(tag)
        for reference, value in added:
            event.set_field(reference, event.sprintf(value))
        yield event, mark


class MultilineCodec:
    """logstash-plugins/logstash-codec-multiline lib/logstash/codecs/multiline.rb, what => previous: the lines
    of one file in, its events out, one at a time."""

    def __init__(self, codec: Plugin, library: PatternLibrary):
        if codec.name != "multiline":
            raise NotImplementedError(f"codec {codec.name} is not modelled")
        require_options(codec, {"pattern", "negate", "what", "auto_flush_interval", "max_lines", "max_bytes", "patterns_dir"})
        if codec.get("what") != "previous":
            raise NotImplementedError("only multiline what => previous is modelled")
        if "max_bytes" in codec.keys() and not isinstance(codec.get("max_bytes"), int):
            raise NotImplementedError("max_bytes is modelled as a plain number of bytes only")
        # register: the core patterns, then patterns_dir's files, then Grok#compile(pattern) with
        # named_captures_only false; decode: match is "grok.match != false".
        # (The codec loads the legacy core set, grok under ecs v8 the ecs-v1 one; the model has one.)
        files = patterns_dir_files(codec.get("patterns_dir", []), skip_directories=False)
        self.start = library.grok(codec.get("pattern"), named_captures_only=False, file_patterns=files)
        self.negate = codec.get("negate", False)
        self.max_lines, self.max_bytes = codec.get("max_lines", 500), codec.get("max_bytes", 10 * 1024 * 1024)

    def events(self, lines: Iterable[tuple[str, object]]) -> Iterator[tuple[str, list[str], object]]:
        """``(message, tags, mark of its first line)`` for each event ``lines`` make, the last one flushed at the end."""
        buffer: list[str] = []
        size, first_mark = 0, None
        for received, mark in lines:
            # decode: text.split("\n"), and Ruby's "".split gives no line: an empty line is dropped.
            if not received:
                continue
            matched = self.start.matches(received) != self.negate
            # do_previous: flush before buffering when the line starts a record or a limit is passed.
            if buffer and (not matched or len(buffer) > self.max_lines or size >= self.max_bytes):
                yield *self._merged(buffer, size), first_mark
                buffer, size = [], 0
            if not buffer:
                first_mark = mark
            buffer.append(received)
            size += len(received.encode()) if not received.isascii() else len(received)
        if buffer:  # auto_flush_interval: the last event is flushed once no line follows (timing not modelled)
            yield *self._merged(buffer, size), first_mark

    def _merged(self, buffer: list[str], size: int) -> tuple[str, list[str]]:
        tags = ["multiline"] if len(buffer) > 1 else []  # merge_events
        tags += ["multiline_codec_max_bytes_reached"] if size >= self.max_bytes else []
        tags += ["multiline_codec_max_lines_reached"] if len(buffer) > self.max_lines else []
        return "\n".join(buffer), tags

