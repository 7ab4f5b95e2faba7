"""The file input and its multiline codec: which input reads a file, and the events it makes of its text."""

import datetime as dt
import fnmatch
from pathlib import Path

from .grok import EngineDisagreement
from .logstash_config import Plugin, field_path
from .logstash_events import Event
from .logstash_options import require_options
from .logstash_patterns import PatternLibrary, patterns_dir_files


def path_matches(pattern: str, file_name: str) -> bool:
    """Whether a file input ``path`` entry (a Dir.glob pattern) matches ``file_name`` in its folder.

    Only ``*`` and ``?`` in the last component are modelled (logstash-input-file
    lib/filewatch/discoverer.rb expands ``path`` with Dir.glob).
    """
    folder, _, name = pattern.rpartition("/")
    if any(char in folder for char in "*?[{") or any(char in name for char in "[{\\"):
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
    matches = [
        plugin
        for plugin in inputs
        if isinstance(plugin, Plugin)
        and any(path_matches(pattern, file_name) for pattern in plugin.get("path", []))
        and not any(_excluded(pattern, file_name, engine) for pattern in plugin.get("exclude", []))
    ]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} file inputs read {file_name}")
    return matches[0]


def read_file_input(plugin: Plugin, file_path: Path, text: str, library: PatternLibrary) -> list[Event]:
    """The events the file input ``plugin`` (its ``${VAR}`` substituted, with its codec) makes of ``text``,
    complete lines only."""
    # stat_interval and discover_interval only set when lines are read (the latency budget test
    # checks them), sincedb_write_interval how much a crash replays (the replay test checks it);
    # what is read does not depend on them.
    require_options(
        plugin,
        {"path", "exclude", "start_position", "sincedb_path", "mode", "codec", "stat_interval", "discover_interval",
         "sincedb_write_interval"},
    )
    if plugin.get("mode", "tail") != "tail":
        raise AssertionError(f"file input for {file_path.name} is not in tail mode: read mode deletes files")
    # logstash-input-file lib/filewatch/watched_file.rb (buffer_extract): a BufferedTokenizer splits on
    # the delimiter "\n" only, so a "\r" before it stays in the line; a line without its newline waits.
    # Empty lines are passed on too (elastic/logstash BufferedTokenizerExt.java, extract: split with
    # limit -1), each to listener.accept (lib/filewatch/tail_mode/handlers/base.rb, controlled_read).
    lines = text.split("\n")[:-1]
    codec = plugin.get("codec")
    messages = _multiline(codec, lines, library) if codec is not None else [(line, []) for line in lines]
    events = []
    for message, tags in messages:
        event = Event(
            {
                "@timestamp": dt.datetime.now(dt.timezone.utc),
                "@version": "1",
                "message": message,
                "event": {"original": message},
                "log": {"file": {"path": str(file_path)}},
                "host": {"name": "logstash"},
            }
        )
        for tag in tags:
            event.add_tag(tag)
        for reference, value in plugin.get("add_field", {}).items():
            event.set_field(field_path(reference), event.sprintf(value))
        events.append(event)
    return events


def _multiline(codec: Plugin, lines: list[str], library: PatternLibrary) -> list[tuple[str, list[str]]]:
    """logstash-plugins/logstash-codec-multiline lib/logstash/codecs/multiline.rb, what => previous."""
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
    start = library.grok(codec.get("pattern"), named_captures_only=False, file_patterns=files)
    negate = codec.get("negate", False)
    max_lines, max_bytes = codec.get("max_lines", 500), codec.get("max_bytes", 10 * 1024 * 1024)
    events, buffer, size = [], [], 0

    def flush():
        nonlocal size
        if buffer:
            tags = ["multiline"] if len(buffer) > 1 else []  # merge_events
            tags += ["multiline_codec_max_bytes_reached"] if size >= max_bytes else []
            tags += ["multiline_codec_max_lines_reached"] if len(buffer) > max_lines else []
            events.append(("\n".join(buffer), tags))
            buffer.clear()
            size = 0

    for received in lines:
        # decode: text.split("\n"), and Ruby's "".split gives no line: an empty line is dropped.
        for line in [received] if received else []:
            matched = start.matches(line) != negate
            # do_previous: flush before buffering when the line starts a record or a limit is passed.
            if not matched or len(buffer) > max_lines or size >= max_bytes:
                flush()
            buffer.append(line)
            size += len(line.encode())
    flush()  # auto_flush_interval: the last event is flushed once no line follows (timing not modelled)
    return events
