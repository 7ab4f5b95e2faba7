"""Run events through the rules of a Logstash pipeline file, here, without Logstash.

Models exactly the plugins and options logstash/pipeline/django.conf uses,
following each plugin's source (named next to each behaviour); any other
plugin or option raises NotImplementedError, so a pipeline change cannot slip
past the tests unmodelled. Given an engine (stack_models/joni.py), every grok
and multiline expression also runs on Joni and every date on Joda, and any
disagreement with the model raises. Not modelled: the Elasticsearch round
trip, timing (auto_flush_interval, stat_interval), sincedb (but its expiry: logstash_sincedb.py).

This module wires the layers below: the file input and its codec (logstash_inputs), the filters
(logstash_filters), the conditionals around them and the elasticsearch output.
"""

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import regex

from .grok import PYGROK_PATTERNS_DIR, EngineDisagreement, Grok, load_patterns, plain_ruby_regex
from .logstash_config import parse_config
from .logstash_config_tree import Conditional, FieldRef, Plugin, RegexLiteral, plugins
from .logstash_events import Document, Event
from .logstash_filters import FilterPlugins
from .logstash_inputs import file_input_for, read_file_input, stream_file_input
from .logstash_options import substitute_environment
from .logstash_patterns import CONTAINER_MOUNTS, PatternLibrary, host_path, patterns_dir_files
from .paths import PIPELINE_PATH


@dataclass(frozen=True)
class GrokMatch:
    """One expression of a grok filter's ``match``, with the definitions the filter compiles it with."""

    plugin_id: str
    source: str  # the field reference it matches
    index: int  # its place in the source's list of expressions
    expression: str
    failure_tags: tuple[str, ...]  # tag_on_failure
    pattern_definitions: dict[str, str] = field(repr=False)
    file_patterns: dict[str, str] = field(repr=False)

    def compile(self, library: PatternLibrary, expression: str | None = None) -> Grok:
        """This expression (or ``expression``, e.g. a part of it) as the filter compiles it."""
        return library.grok(self.expression if expression is None else expression, self.pattern_definitions,
                            file_patterns=self.file_patterns)


class Pipeline:
    def __init__(self, patterns: dict[str, str], environment: dict[str, str], path: Path = PIPELINE_PATH, engine=None,
                 mounts: dict[str, Path] = CONTAINER_MOUNTS):
        self.environment = environment
        self.engine = engine
        self.config = parse_config(path.read_text(encoding="utf-8"))
        self.library = PatternLibrary(patterns, engine)
        self._filters = FilterPlugins(self.library, engine, mounts)
        # Logstash substitutes ${VAR} once, when it loads the pipeline: id(item) -> (item, substituted).
        self._substituted: dict[int, tuple[object, Plugin]] = {}

    @classmethod
    def from_patterns_dir(cls, directory: Path, environment: dict[str, str] | None = None, engine=None) -> "Pipeline":
        return cls(load_patterns(directory), environment or {}, engine=engine)

    @classmethod
    def offline(cls, time_zone: str, engine=None) -> "Pipeline":
        """The pipeline as the stack runs it, reading timestamps in ``time_zone``, with the core patterns
        (pygrok's copy of logstash-patterns-core, which the tests check against the current one); offline
        the output's password is never used."""
        environment = {"TIME_ZONE": time_zone, "LOGSTASH_WRITER_PASSWORD": "not-used-offline"}
        return cls.from_patterns_dir(PYGROK_PATTERNS_DIR, environment, engine=engine)

    def grok(self, expression: str, extra_patterns: dict[str, str] | None = None, named_captures_only: bool = True,
             file_patterns: dict[str, str] | None = None) -> Grok:
        return self.library.grok(expression, extra_patterns, named_captures_only, file_patterns)

    host_path = staticmethod(host_path)
    patterns_dir_files = staticmethod(patterns_dir_files)

    # ---- inputs ------------------------------------------------------------------
    def expressions(self) -> dict[str, Grok]:
        """Every grok and multiline expression of the pipeline, compiled as its plugin compiles it, by plugin id."""
        found: dict[str, Grok] = {}
        for plugin in self.config["input"]:
            codec = plugin.get("codec") if isinstance(plugin, Plugin) else None
            if codec is not None:
                files = self.patterns_dir_files(codec.get("patterns_dir", []), skip_directories=False)
                found[f"{plugin.get('id')} codec"] = self.grok(codec.get("pattern"), named_captures_only=False,
                                                               file_patterns=files)
        for match in self.grok_matches():
            found[f"{match.plugin_id} {match.source} #{match.index}"] = match.compile(self.library)
        return found

    def grok_matches(self) -> list[GrokMatch]:
        """Every expression of every grok filter, in the order the filters and their lists give them."""
        found = []
        for item in plugins(self.config["filter"]):
            if item.name == "grok":
                files = self.patterns_dir_files(item.get("patterns_dir", []), item.get("patterns_files_glob", "*"))
                tags = tuple(item.get("tag_on_failure", ["_grokparsefailure"]))
                for source, expressions in item.get("match").items():
                    for index, expression in enumerate(expressions if isinstance(expressions, list) else [expressions]):
                        found.append(GrokMatch(item.get("id"), source, index, expression, tags,
                                               item.get("pattern_definitions", {}), files))
        return found

    def read_names(self) -> list[str]:
        """The file name patterns the file inputs read (``django_debug.log``, ``django_debug.log.*``, ...)."""
        return [pattern.rpartition("/")[2] for plugin in self.config["input"] if isinstance(plugin, Plugin)
                for pattern in plugin.get("path") or []]

    def file_input(self, file_name: str) -> Plugin:
        """The file input whose ``path`` patterns match ``file_name`` (a live or a rotated name)."""
        return file_input_for(self.config["input"], file_name, self.engine)

    def read(self, file_path: Path, text: str) -> list[Event]:
        """The events the file input (with its codec) makes of ``text``, complete lines only."""
        return read_file_input(self.loaded(self.file_input(file_path.name)), file_path, text, self.library)

    def stream(self, file_path: Path, lines: Iterable[tuple[str, object]]) -> Iterator[tuple[Event, object]]:
        """``read``, one event at a time: ``lines`` are the file's lines as the input's codec gets them, each
        with a mark (stack_models/logstash_lines.py), and each event comes with its first line's mark."""
        return stream_file_input(self.loaded(self.file_input(file_path.name)), file_path, lines, self.library)

    def loaded(self, item: Plugin) -> Plugin:
        """``item`` with its ``${VAR}`` substituted, once for the life of the pipeline."""
        entry = self._substituted.get(id(item))
        if entry is None or entry[0] is not item:
            entry = self._substituted[id(item)] = (item, substitute_environment(item, self.environment))
        return entry[1]

    # ---- filters -----------------------------------------------------------------
    def filter(self, event: Event, on_plugin: Callable[[str], None] | None = None) -> Event:
        """Run the filters on ``event``; ``on_plugin`` is told the id of each filter plugin that runs, in order."""
        self._run(self.config["filter"], event, on_plugin)
        return event

    def _run(self, items: list, event: Event, on_plugin: Callable[[str], None] | None) -> None:
        for item in items:
            if isinstance(item, Conditional):
                for condition, body in item.branches:
                    if condition is None or self._holds(condition, event):
                        self._run(body, event, on_plugin)
                        break
            else:
                plugin = self.loaded(item)
                if on_plugin is not None:
                    on_plugin(plugin.get("id"))
                self._filters.apply(plugin, event)

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
            found = isinstance(left, str) and _condition_regex(right).search(left) is not None
            if self.engine is not None and isinstance(left, str):
                self.engine.check_regex_match(right, left, found, _condition_disagreement(right, left, found))
            return found if operator == "=~" else not found
        if operator in _ORDERINGS:
            # logstash-core config/ir/compiler/EventCondition.java (comparison, compare): the field's value
            # compareTo the constant; a value that is not Comparable (a missing field) throws
            # UnexpectedTypeException. Only whole numbers on both sides are modelled.
            if not (type(left) is int and type(right) is int):
                raise NotImplementedError(f"{operator} of {left!r} and {right!r} is not modelled")
            return _ORDERINGS[operator](left, right)
        raise NotImplementedError(f"condition operator {operator} is not modelled")

    @staticmethod
    def _value(operand, event: Event):
        if isinstance(operand, FieldRef):
            return event.get_field(operand.path)
        if isinstance(operand, RegexLiteral):
            return operand.pattern
        return operand

    # ---- output ------------------------------------------------------------------
    def output(self, event: Event, copy: bool = True) -> Document:
        """The document the output indexes; ``copy=False`` shares the event's values (read it, do not change it)."""
        outputs = [item for item in self.config["output"] if isinstance(item, Plugin)]
        if len(outputs) != 1 or outputs[0].name != "elasticsearch":
            raise NotImplementedError("exactly one elasticsearch output is modelled")
        plugin = self.loaded(outputs[0])
        source = {key: _copied(value) if copy else value for key, value in event.items() if key != "@metadata"}
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


_ORDERINGS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@functools.lru_cache(maxsize=64)
def _condition_regex(pattern: str) -> regex.Pattern:
    """A condition's /regexp/, compiled once, as Logstash compiles it with the pipeline: a Ruby Regexp without
    options (logstash-core src/main/java/org/logstash/config/ir/compiler/EventCondition.java, newRegexp)."""
    return plain_ruby_regex(pattern)


def _condition_disagreement(pattern: str, text: str, model: bool) -> Callable[[object], EngineDisagreement]:
    return lambda real: EngineDisagreement(f"condition model and Joni disagree on {text!r} =~ /{pattern}/: {model} != {real}")


def _copied(value):
    """A deep copy of an event's value: dicts and lists copied, the rest (str, numbers, datetime) immutable."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value
