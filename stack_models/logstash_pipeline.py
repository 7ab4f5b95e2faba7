"""Run events through the rules of a Logstash pipeline file, here, without Logstash.

Models exactly the plugins and options logstash/pipeline/django.conf uses,
following each plugin's source (named next to each behaviour); any other
plugin or option raises NotImplementedError, so a pipeline change cannot slip
past the tests unmodelled. Given an engine (stack_models/joni.py), every grok
and multiline expression also runs on Joni and every date on Joda, and any
disagreement with the model raises. Not modelled: the Elasticsearch round
trip, timing (auto_flush_interval, stat_interval), sincedb.
"""

import copy
import datetime as dt
import fnmatch
import hashlib
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import regex

from config.time_zones import time_zone_problem

from .grok import EngineDisagreement, Grok, GrokError, load_patterns, read_patterns_file
from .logstash_config import Conditional, FieldRef, Plugin, RegexLiteral, field_path, parse_config
from .paths import LOGSTASH_DIR, PIPELINE_PATH

# The Logstash container's read-only bind mounts of this repository (docker-compose.yml, logstash's
# volumes; tests/stack/test_pipeline_patterns.py checks them): where patterns_dir entries are read.
CONTAINER_MOUNTS = {"/usr/share/logstash/pipeline": LOGSTASH_DIR / "pipeline"}

_COMMON_OPTIONS = {"id", "add_field", "remove_field", "add_tag", "remove_tag"}
_ENV_REFERENCE = re.compile(r"\$\{(?P<name>\w+)(?::(?P<default>[^}]*))?\}")
_SPRINTF = re.compile(r"%\{(?P<ref>[^}]+)\}")
# Joda-Time tokens the pipeline's date formats use, as strptime directives.
# The zone of the Logstash image's JVM, used by a date filter without timezone (TimestampParserFactory.java).
JVM_TIME_ZONE = "UTC"
# Joda-Time tokens the pipeline's date formats use: the strptime directive, and what Joda's parser
# takes there where strptime is more lenient (SSS: at most three fraction digits, checked on Joda).
_JODA_TOKENS = {
    "yyyy": ("%Y", r"\d{4}"), "MMM": ("%b", r"[A-Za-z]+"), "MM": ("%m", r"\d{1,2}"), "dd": ("%d", r"\d{1,2}"),
    "HH": ("%H", r"\d{1,2}"), "mm": ("%M", r"\d{1,2}"), "ss": ("%S", r"\d{1,2}"), "SSS": ("%f", r"\d{1,3}"),
    "Z": ("%z", r"[-+]\d{4}"),
}


class Event(dict):
    """A Logstash event: nested fields, with ``@metadata`` kept out of the output."""

    def get_field(self, path: tuple[str, ...]):
        node = self
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def set_field(self, path: tuple[str, ...], value) -> None:
        node = self
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    def remove_field(self, path: tuple[str, ...]):
        parent = self.get_field(path[:-1]) if len(path) > 1 else self
        if isinstance(parent, dict):
            return parent.pop(path[-1], None)
        return None

    def tags(self) -> list[str]:
        return self.setdefault("tags", [])

    def add_tag(self, tag: str) -> None:
        if tag not in self.tags():
            self.tags().append(tag)

    def sprintf(self, template: str) -> str:
        def substitute(match):
            reference = match["ref"]
            if reference.startswith("+"):
                return _joda_format(self["@timestamp"], reference[1:])
            value = self.get_field(field_path(reference))
            return match.group() if value is None else str(value)

        return _SPRINTF.sub(substitute, template)


@dataclass
class Document:
    index: str
    document_id: str
    source: dict
    action: str


def _joda_format(timestamp: dt.datetime, pattern: str) -> str:
    utc = timestamp.astimezone(dt.timezone.utc)
    return pattern.replace("YYYY", f"{utc.year:04d}").replace("MM", f"{utc.month:02d}").replace("dd", f"{utc.day:02d}")


def _joda_to_strptime(pattern: str) -> tuple[str, re.Pattern]:
    """The strptime format for a Joda pattern, and the shape Joda's parser accepts."""
    out, shape, position = [], [], 0
    while position < len(pattern):
        for token in sorted(_JODA_TOKENS, key=len, reverse=True):
            if pattern.startswith(token, position):
                out.append(_JODA_TOKENS[token][0])
                shape.append(_JODA_TOKENS[token][1])
                position += len(token)
                break
        else:
            if pattern[position].isalpha() or pattern[position] in "'%":
                raise NotImplementedError(f"date format token at {pattern[position:]!r} is not modelled")
            out.append(pattern[position])
            shape.append(re.escape(pattern[position]))
            position += 1
    return "".join(out), re.compile("".join(shape), re.ASCII)


def path_matches(pattern: str, file_name: str) -> bool:
    """Whether a file input ``path`` entry (a Dir.glob pattern) matches ``file_name`` in its folder.

    Only ``*`` and ``?`` in the last component are modelled (logstash-input-file
    lib/filewatch/discoverer.rb expands ``path`` with Dir.glob).
    """
    folder, _, name = pattern.rpartition("/")
    if any(char in folder for char in "*?[{") or any(char in name for char in "[{\\"):
        raise NotImplementedError(f"the file input path {pattern!r} uses glob syntax that is not modelled")
    return _name_matches(name, file_name)


def _excluded(pattern: str, file_name: str) -> bool:
    """Whether a file input ``exclude`` entry drops ``file_name``: lib/filewatch/discoverer.rb
    (can_exclude?) matches it against the basename with Pathname#fnmatch?, no flags."""
    if any(char in pattern for char in "/[{\\"):
        raise NotImplementedError(f"the file input exclude {pattern!r} uses glob syntax that is not modelled")
    return _name_matches(pattern, file_name)


def _name_matches(pattern: str, file_name: str) -> bool:
    """Ruby's File.fnmatch without flags, as Dir.glob and Pathname#fnmatch? use it: ``*`` and ``?``
    never match a leading dot."""
    return fnmatch.fnmatchcase(file_name, pattern) and not (file_name.startswith(".") and not pattern.startswith("."))


def _parse_millis(joda: str, text: str, zone_id: str) -> int | None:
    """Epoch millis as Joda's parseMillis gives them in ``zone_id``, or None where it throws."""
    strptime_format, shape = _joda_to_strptime(joda)
    if shape.fullmatch(text) is None:
        return None
    try:
        parsed = dt.datetime.strptime(text, strptime_format)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        zone = zoneinfo.ZoneInfo(zone_id)
        # fold=0 is the earlier offset of a repeated hour, as Joda takes it; a local time in a
        # DST gap does not survive the round trip, and Joda refuses it ("Illegal instant").
        parsed = parsed.replace(tzinfo=zone, fold=0)
        if parsed.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) != parsed.replace(tzinfo=None):
            return None
    # Joda keeps milliseconds: digits beyond them are cut, not rounded.
    return (parsed - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)


def substitute_environment(value, environment: dict[str, str]):
    """Logstash's ``${VAR}`` / ``${VAR:default}`` substitution; an unset variable without default is an error."""
    if isinstance(value, str):

        def replace(match):
            if match["name"] in environment:
                return environment[match["name"]]
            if match["default"] is not None:
                return match["default"]
            raise KeyError(f"pipeline refers to ${{{match['name']}}}, which is not set and has no default")

        return _ENV_REFERENCE.sub(replace, value)
    if isinstance(value, list):
        return [substitute_environment(item, environment) for item in value]
    if isinstance(value, dict):
        return {key: substitute_environment(item, environment) for key, item in value.items()}
    if isinstance(value, Plugin):
        return Plugin(value.name, [(key, substitute_environment(item, environment)) for key, item in value.attributes])
    return value


def _require_options(plugin: Plugin, known: set[str]) -> None:
    unknown = plugin.keys() - known - _COMMON_OPTIONS
    if unknown:
        raise NotImplementedError(f"{plugin.name} option(s) {sorted(unknown)} are not modelled by the test pipeline")


class Pipeline:
    def __init__(self, patterns: dict[str, str], environment: dict[str, str], path: Path = PIPELINE_PATH, engine=None):
        self.patterns = patterns
        self.environment = environment
        self.engine = engine
        self.config = parse_config(path.read_text(encoding="utf-8"))
        self._groks: dict[str, Grok] = {}

    @classmethod
    def from_patterns_dir(cls, directory: Path, environment: dict[str, str] | None = None, engine=None) -> "Pipeline":
        return cls(load_patterns(directory), environment or {}, engine=engine)

    def grok(self, expression: str, extra_patterns: dict[str, str] | None = None, named_captures_only: bool = True,
             file_patterns: dict[str, str] | None = None) -> Grok:
        key = expression + repr(sorted((extra_patterns or {}).items())) + repr(named_captures_only)
        key += repr(sorted((file_patterns or {}).items()))
        if key not in self._groks:
            # logstash-filter-grok lib/logstash/filters/grok.rb (register): the core pattern files, then
            # those of patterns_dir, then pattern_definitions; a later definition of a name wins.
            patterns = {**self.patterns, **(file_patterns or {}), **(extra_patterns or {})}
            self._groks[key] = Grok(expression, patterns, named_captures_only, engine=self.engine)
        return self._groks[key]

    @staticmethod
    def host_path(container_path: str) -> Path:
        """Where a path inside the Logstash container is in this checkout (only bind-mounted folders)."""
        for mount, folder in CONTAINER_MOUNTS.items():
            if container_path == mount or container_path.startswith(mount + "/"):
                return folder / container_path[len(mount) :].lstrip("/")
        raise LookupError(f"{container_path} is not in a folder this repository mounts into Logstash")

    def patterns_dir_files(self, entries: list[str], glob: str = "*", skip_directories: bool = True) -> dict[str, str]:
        """The definitions patterns_dir adds, read as the plugins read them.

        grok.rb (patterns_files_from_paths) and multiline.rb (register) alike: a directory entry
        becomes ``dir/<glob>`` (the codec's glob is always "*"), expanded by Dir.glob (sorted, no
        dot files); each file goes through Grok#add_patterns_from_file. grok skips a directory the
        glob finds; the codec hands it to add_patterns_from_file, which fails to read it.
        """
        patterns: dict[str, str] = {}
        for entry in entries:
            if any(char in entry for char in "*?[{"):
                raise NotImplementedError(f"a glob in patterns_dir ({entry!r}) is not modelled")
            path = self.host_path(entry)
            if not path.is_dir():
                found = [path] if path.exists() else []
            elif any(char in glob for char in "?[{\\/") or glob.count("*") > 1 or glob.startswith("."):
                raise NotImplementedError(f"patterns_files_glob {glob!r} is not modelled")
            else:
                found = sorted(file for file in path.glob(glob) if not file.name.startswith("."))
            for file in found:
                if file.is_dir() and skip_directories:
                    continue
                if file.is_dir():
                    raise GrokError(f"the multiline codec cannot load {file}: it is a directory")
                patterns.update(read_patterns_file(file))
        return patterns

    # ---- inputs ------------------------------------------------------------------
    def file_input(self, file_name: str) -> Plugin:
        """The file input whose ``path`` patterns match ``file_name`` (a live or a rotated name)."""
        matches = [
            plugin
            for plugin in self.config["input"]
            if isinstance(plugin, Plugin)
            and any(path_matches(pattern, file_name) for pattern in plugin.get("path", []))
            and not any(self._excluded(pattern, file_name) for pattern in plugin.get("exclude", []))
        ]
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} file inputs read {file_name}")
        return matches[0]

    def _excluded(self, pattern: str, file_name: str) -> bool:
        excluded = _excluded(pattern, file_name)
        if self.engine is not None and self.engine.fnmatch(pattern, file_name) != excluded:
            raise EngineDisagreement(f"exclude model and Ruby's fnmatch? disagree on {file_name!r} for {pattern!r}")
        return excluded

    def read(self, file_path: Path, text: str) -> list[Event]:
        """The events the file input (with its codec) makes of ``text``, complete lines only."""
        plugin = substitute_environment(self.file_input(file_path.name), self.environment)
        # stat_interval and discover_interval only set when lines are read (the latency budget test
        # checks them), sincedb_write_interval how much a crash replays (the replay test checks it);
        # what is read does not depend on them.
        _require_options(
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
        messages = self._multiline(codec, lines) if codec is not None else [(line, []) for line in lines]
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

    def _multiline(self, codec: Plugin, lines: list[str]) -> list[tuple[str, list[str]]]:
        """logstash-plugins/logstash-codec-multiline lib/logstash/codecs/multiline.rb, what => previous."""
        if codec.name != "multiline":
            raise NotImplementedError(f"codec {codec.name} is not modelled")
        _require_options(codec, {"pattern", "negate", "what", "auto_flush_interval", "max_lines", "max_bytes", "patterns_dir"})
        if codec.get("what") != "previous":
            raise NotImplementedError("only multiline what => previous is modelled")
        if "max_bytes" in codec.keys() and not isinstance(codec.get("max_bytes"), int):
            raise NotImplementedError("max_bytes is modelled as a plain number of bytes only")
        # register: the core patterns, then patterns_dir's files, then Grok#compile(pattern) with
        # named_captures_only false; decode: match is "grok.match != false".
        # (The codec loads the legacy core set, grok under ecs v8 the ecs-v1 one; the model has one.)
        files = self.patterns_dir_files(codec.get("patterns_dir", []), skip_directories=False)
        start = self.grok(codec.get("pattern"), named_captures_only=False, file_patterns=files)
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

    # ---- filters -----------------------------------------------------------------
    def filter(self, event: Event) -> Event:
        self._run(self.config["filter"], event)
        return event

    def _run(self, items: list, event: Event) -> None:
        for item in items:
            if isinstance(item, Conditional):
                for condition, body in item.branches:
                    if condition is None or self._holds(condition, event):
                        self._run(body, event)
                        break
            else:
                self._apply(substitute_environment(item, self.environment), event)

    def _holds(self, condition, event: Event) -> bool:
        operator = condition[0]
        if operator == "and":
            return self._holds(condition[1], event) and self._holds(condition[2], event)
        if operator == "or":
            return self._holds(condition[1], event) or self._holds(condition[2], event)
        if operator == "not":
            return not self._holds(condition[1], event)
        if operator == "truthy":
            value = self._value(condition[1], event)
            return value is not None and value is not False
        left, right = self._value(condition[1], event), self._value(condition[2], event)
        if operator == "==":
            return left == right
        if operator == "!=":
            return left != right
        if operator in ("in", "not in"):
            contained = left in right if isinstance(right, (list, str)) and left is not None else False
            return contained if operator == "in" else not contained
        if operator in ("=~", "!~"):
            found = isinstance(left, str) and regex.search(right, left, regex.MULTILINE) is not None
            return found if operator == "=~" else not found
        raise NotImplementedError(f"condition operator {operator} is not modelled")

    @staticmethod
    def _value(operand, event: Event):
        if isinstance(operand, FieldRef):
            return event.get_field(operand.path)
        if isinstance(operand, RegexLiteral):
            return operand.pattern
        return operand

    def _apply(self, plugin: Plugin, event: Event) -> None:
        handler = getattr(self, f"_filter_{plugin.name}", None)
        if handler is None:
            raise NotImplementedError(f"filter {plugin.name} is not modelled")
        if handler(plugin, event):
            for reference, value in plugin.get("add_field", {}).items():
                event.set_field(field_path(event.sprintf(reference)), event.sprintf(value))
            for reference in plugin.get("remove_field", []):
                event.remove_field(field_path(event.sprintf(reference)))
            for tag in plugin.get("add_tag", []):
                event.add_tag(event.sprintf(tag))
            for tag in plugin.get("remove_tag", []):
                if tag in event.tags():
                    event.tags().remove(tag)

    def _filter_grok(self, plugin: Plugin, event: Event) -> bool:
        """logstash-plugins/logstash-filter-grok lib/logstash/filters/grok.rb (filter, match, handle)."""
        _require_options(plugin, {"match", "pattern_definitions", "overwrite", "tag_on_failure", "patterns_dir", "patterns_files_glob"})
        overwrite = set(plugin.get("overwrite", []))
        files = self.patterns_dir_files(plugin.get("patterns_dir", []), plugin.get("patterns_files_glob", "*"))
        for source, expressions in plugin.get("match").items():
            text = event.get_field(field_path(source))
            if isinstance(text, (list, dict)):
                raise NotImplementedError("grok on an array or hash field is not modelled")
            for expression in expressions if isinstance(expressions, list) else [expressions]:
                # match_against_groks: input.to_s, so a missing field is matched as "".
                grok = self.grok(expression, plugin.get("pattern_definitions", {}), file_patterns=files)
                fields = grok.fields("" if text is None else str(text))
                if fields is None:
                    continue
                for reference, value in fields:
                    self._grok_handle(event, reference, value, reference in overwrite)
                return True  # break_on_match defaults to true
        for tag in plugin.get("tag_on_failure", ["_grokparsefailure"]):
            event.add_tag(tag)
        return False

    @staticmethod
    def _grok_handle(event: Event, reference: str, value, overwrite: bool) -> None:
        # handle: keep_empty_captures is false, so a nil or "" capture sets nothing.
        if value is None or value == "":
            return
        path = field_path(reference)
        existing = event.get_field(path)
        if overwrite or existing is None:
            event.set_field(path, value)
        elif isinstance(existing, list):
            event.set_field(path, existing + [value])
        elif isinstance(existing, str):  # promoted to an array: grok may not overwrite it
            event.set_field(path, [existing, value])

    def _filter_kv(self, plugin: Plugin, event: Event) -> bool:
        _require_options(
            plugin,
            {"source", "target", "field_split", "value_split", "whitespace", "include_brackets", "include_keys"},
        )
        if plugin.get("include_brackets", True) or plugin.get("whitespace", "lenient") != "strict":
            raise NotImplementedError("kv is modelled with include_brackets => false and whitespace => strict only")
        field_split, value_split = plugin.get("field_split", " "), plugin.get("value_split", "=")
        text = event.get_field(field_path(plugin.get("source", "message")))
        if not isinstance(text, str):
            return True
        # The scan expression kv builds from these options (lib/logstash/filters/kv.rb, register).
        field_class, split_class = re.escape(field_split), re.escape(value_split)
        scan = re.compile(
            rf"((?:\\.|[^{split_class}{field_class}])+)[{split_class}]"
            rf"""(?:"((?:\\.|[^"])+)?"|'((?:\\.|[^'])+)?'|((?:\\.|[^{field_class}])+))?"""
            rf"(?:[{field_class}]|$)"
        )
        include_keys = plugin.get("include_keys", [])
        pairs: dict[str, object] = {}
        for match in scan.finditer(text):
            key, value = match.group(1), next((group for group in match.groups()[1:] if group is not None), None)
            if not value or (include_keys and key not in include_keys):
                continue
            # kv.rb parse: a repeated key turns into an array, and later values are pushed onto it.
            if key not in pairs:
                pairs[key] = value
            elif isinstance(pairs[key], list):
                pairs[key].append(value)
            else:
                pairs[key] = [pairs[key], value]
        if pairs:
            target = plugin.get("target")
            for key, value in pairs.items():
                event.set_field(field_path(target) + (key,) if target else (key,), value)
        return True

    def _filter_mutate(self, plugin: Plugin, event: Event) -> bool:
        # logstash-plugins/logstash-filter-mutate lib/logstash/filters/mutate.rb: rename (of a present
        # field) runs before replace, whatever the order in the config.
        _require_options(plugin, {"rename", "replace"})
        for source, target in plugin.get("rename", {}).items():
            value = event.remove_field(field_path(source))
            if value is not None:
                event.set_field(field_path(target), value)
        for reference, value in plugin.get("replace", {}).items():
            event.set_field(field_path(reference), event.sprintf(value))
        return True

    def _filter_date(self, plugin: Plugin, event: Event) -> bool:
        """logstash-plugins/logstash-filter-date: JodaParser.java's parseMillis, here and on Joda."""
        _require_options(plugin, {"match", "timezone", "target", "tag_on_failure", "locale"})
        source, *formats = plugin.get("match")
        text = event.get_field(field_path(source))
        zone_id = plugin.get("timezone") or JVM_TIME_ZONE
        # The zone is built with DateTimeZone.forID when the pipeline loads: a name Joda refuses stops it.
        problem = time_zone_problem(zone_id)
        if problem:
            raise ValueError(f"the date filter cannot load: {problem}")
        for joda in formats:
            millis = _parse_millis(joda, text, zone_id) if isinstance(text, str) else None
            if self.engine is not None and isinstance(text, str):
                real = self.engine.joda_parse(joda, zone_id, text, plugin.get("locale"))
                if real != millis:
                    raise EngineDisagreement(f"date model and Joda disagree on {text!r} ({joda!r} in {zone_id}): {millis} != {real}")
            if millis is None:
                continue
            timestamp = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=millis)
            event.set_field(field_path(plugin.get("target", "@timestamp")), timestamp)
            return True
        for tag in plugin.get("tag_on_failure", ["_dateparsefailure"]):
            event.add_tag(tag)
        return False

    def _filter_uuid(self, plugin: Plugin, event: Event) -> bool:
        _require_options(plugin, {"target"})
        path = field_path(plugin.get("target"))
        if event.get_field(path) is None:
            event.set_field(path, str(uuid.uuid4()))
        return True

    def _filter_fingerprint(self, plugin: Plugin, event: Event) -> bool:
        _require_options(plugin, {"source", "concatenate_sources", "method", "target"})
        if plugin.get("method") != "SHA256" or not plugin.get("concatenate_sources"):
            raise NotImplementedError("fingerprint is modelled for SHA256 over concatenated sources only")
        # As the plugin does: sources sorted, "|name|value" each, then a closing "|".
        joined = "".join(
            f"|{source}|{'' if (value := event.get_field(field_path(source))) is None else value}"
            for source in sorted(plugin.get("source"))
        ) + "|"
        event.set_field(field_path(plugin.get("target")), hashlib.sha256(joined.encode()).hexdigest())
        return True

    # ---- output ------------------------------------------------------------------
    def output(self, event: Event) -> Document:
        outputs = [item for item in self.config["output"] if isinstance(item, Plugin)]
        if len(outputs) != 1 or outputs[0].name != "elasticsearch":
            raise NotImplementedError("exactly one elasticsearch output is modelled")
        plugin = substitute_environment(outputs[0], self.environment)
        source = copy.deepcopy({key: value for key, value in event.items() if key != "@metadata"})
        return Document(
            index=event.sprintf(plugin.get("index")),
            document_id=event.sprintf(plugin.get("document_id")),
            source=source,
            action=plugin.get("action", "index"),
        )

    def process_file(self, file_path: Path) -> list[tuple[Event, Document]]:
        """Read a log file as the pipeline would and return each event with the document it indexes."""
        results = []
        # Bytes, not read_text: universal newlines would turn the "\r" the file input keeps into "\n".
        for event in self.read(file_path, file_path.read_bytes().decode("utf-8")):
            self.filter(event)
            results.append((event, self.output(event)))
        return results
