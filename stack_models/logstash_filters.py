"""The filter plugins logstash/pipeline/*.conf use: grok, kv, mutate, prune, date, uuid, fingerprint, translate,
useragent.

Each plugin is registered once, as Logstash registers it when the pipeline starts (its options
checked, patterns read, expressions compiled); the function registration returns then runs on
each event.
"""

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from config.time_zones import time_zone_problem

from .grok import EngineDisagreement, GrokTimeout, plain_ruby_regex
from .logstash_config_tree import Plugin, field_path
from .logstash_dates import parse_millis
from .logstash_decorators import filter_matched
from .logstash_events import Event
from .logstash_mutate import register_mutate
from .logstash_options import require_options
from .logstash_patterns import CONTAINER_MOUNTS, PatternLibrary, patterns_dir_files
from .logstash_translate import register_translate
from .logstash_useragent import register_useragent

# The zone of the Logstash image's JVM, used by a date filter without timezone (TimestampParserFactory.java).
JVM_TIME_ZONE = "UTC"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

# A registered filter: runs on an event, True when it succeeded (then the common options apply).
Filter = Callable[[Event], bool]


class FilterPlugins:
    """The modelled filters, compiling grok expressions in ``library``, checking dates on ``engine``'s Joda,
    reading files the pipeline names from the container's ``mounts``."""

    def __init__(self, library: PatternLibrary, engine=None, mounts: dict[str, Path] = CONTAINER_MOUNTS):
        self.library = library
        self.engine = engine
        self.mounts = mounts
        # id(plugin) -> (plugin, its registered filter, its common options); the plugin is kept, so its id is
        # never reused.
        self._registered: dict[int, tuple[Plugin, Filter, tuple]] = {}

    def apply(self, plugin: Plugin, event: Event) -> None:
        """Run the filter ``plugin`` (its ``${VAR}`` substituted) on ``event``; on success, its common options."""
        entry = self._registered.get(id(plugin))
        if entry is None or entry[0] is not plugin:
            common = tuple(plugin.get(name, default) for name, default in
                           (("add_field", {}), ("remove_field", []), ("add_tag", []), ("remove_tag", [])))
            entry = self._registered[id(plugin)] = (plugin, self._register(plugin), common)
        if entry[1](event):
            filter_matched(event, *entry[2])

    def _register(self, plugin: Plugin) -> Filter:
        register = getattr(self, f"_register_{plugin.name}", None)
        if register is None:
            raise NotImplementedError(f"filter {plugin.name} is not modelled")
        return register(plugin)

    def _register_grok(self, plugin: Plugin) -> Filter:
        """logstash-plugins/logstash-filter-grok lib/logstash/filters/grok.rb (register, filter, match, handle)."""
        require_options(plugin, {"match", "pattern_definitions", "overwrite", "tag_on_failure", "patterns_dir", "patterns_files_glob",
                                 "timeout_millis", "tag_on_timeout"})
        overwrite = set(plugin.get("overwrite", []))
        files = patterns_dir_files(plugin.get("patterns_dir", []), plugin.get("patterns_files_glob", "*"))
        matches = [
            (field_path(source), [self.library.grok(expression, plugin.get("pattern_definitions", {}), file_patterns=files)
                                  for expression in (expressions if isinstance(expressions, list) else [expressions])])
            for source, expressions in plugin.get("match").items()
        ]
        failure_tags = plugin.get("tag_on_failure", ["_grokparsefailure"])
        # timeout_millis (30 s by default, 0 for none) bounds each expression's match (timeout_scope
        # "pattern", the default); the model times its own match, not Joni's.
        timeout_millis = plugin.get("timeout_millis", 30000)
        timeout = timeout_millis / 1000 if timeout_millis > 0 else None
        timeout_tag = plugin.get("tag_on_timeout", "_groktimeout")

        def grok(event: Event) -> bool:
            try:
                return match(event)
            except GrokTimeout:
                # filter rescues GrokTimeoutException: tag_on_timeout only, neither tag_on_failure nor
                # filter_matched (so no add_tag, remove_field ...).
                event.add_tag(timeout_tag)
                return False

        def match(event: Event) -> bool:
            for source, groks in matches:
                text = event.get_field(source)
                if isinstance(text, (list, dict)):
                    raise NotImplementedError("grok on an array or hash field is not modelled")
                for expression in groks:
                    # match_against_groks: input.to_s, so a missing field is matched as "".
                    fields = expression.fields("" if text is None else str(text), timeout)
                    if fields is None:
                        continue
                    for reference, value in fields:
                        self._grok_handle(event, reference, value, reference in overwrite)
                    return True  # break_on_match defaults to true
            for tag in failure_tags:
                event.add_tag(tag)
            return False

        return grok

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

    def _register_kv(self, plugin: Plugin) -> Filter:
        require_options(
            plugin,
            {"source", "target", "field_split", "value_split", "whitespace", "include_brackets", "include_keys"},
        )
        if plugin.get("include_brackets", True) or plugin.get("whitespace", "lenient") != "strict":
            raise NotImplementedError("kv is modelled with include_brackets => false and whitespace => strict only")
        field_split, value_split = plugin.get("field_split", " "), plugin.get("value_split", "=")
        source = field_path(plugin.get("source", "message"))
        target = field_path(plugin.get("target")) if plugin.get("target") else ()
        # The scan expression kv builds from these options (lib/logstash/filters/kv.rb, register).
        field_class, split_class = re.escape(field_split), re.escape(value_split)
        scan = re.compile(
            rf"((?:\\.|[^{split_class}{field_class}])+)[{split_class}]"
            rf"""(?:"((?:\\.|[^"])+)?"|'((?:\\.|[^'])+)?'|((?:\\.|[^{field_class}])+))?"""
            rf"(?:[{field_class}]|$)"
        )
        include_keys = plugin.get("include_keys", [])

        def kv(event: Event) -> bool:
            text = event.get_field(source)
            if not isinstance(text, str):
                return True
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
            for key, value in pairs.items():
                event.set_field(target + (key,), value)
            return True

        return kv

    def _register_mutate(self, plugin: Plugin) -> Filter:
        return register_mutate(plugin, self.engine)

    @staticmethod
    def _register_prune(plugin: Plugin) -> Filter:
        # logstash-plugins/logstash-filter-prune 3.0.4 lib/logstash/filters/prune.rb: the top-level fields of
        # event.to_hash (never @metadata) whose names match no whitelist_names regexp, or match a
        # blacklist_names one (default: a name holding a %{...} reference), are removed; each Regexp.new(name),
        # which String#match searches.
        require_options(plugin, {"whitelist_names"})
        keep = [plain_ruby_regex(pattern) for pattern in plugin.get("whitelist_names", [])]
        drop = plain_ruby_regex(r"%\{[^}]+\}")

        def prune(event: Event) -> bool:
            for name in [name for name in event if name != "@metadata"]:
                if (keep and not any(pattern.search(name) for pattern in keep)) or drop.search(name):
                    if "[" in name:
                        raise NotImplementedError(f"prune removes {name!r} as a field reference: not modelled")
                    del event[name]
            return True

        return prune

    def _register_date(self, plugin: Plugin) -> Filter:
        """logstash-plugins/logstash-filter-date: JodaParser.java's parseMillis, here and on Joda."""
        require_options(plugin, {"match", "timezone", "target", "tag_on_failure", "locale"})
        source, *formats = plugin.get("match")
        source_path, target = field_path(source), field_path(plugin.get("target", "@timestamp"))
        zone_id, locale = plugin.get("timezone") or JVM_TIME_ZONE, plugin.get("locale")
        failure_tags = plugin.get("tag_on_failure", ["_dateparsefailure"])
        # The zone is built with DateTimeZone.forID when the pipeline loads: a name Joda refuses stops it.
        problem = time_zone_problem(zone_id)
        if problem:
            raise ValueError(f"the date filter cannot load: {problem}")

        def date(event: Event) -> bool:
            text = event.get_field(source_path)
            for joda in formats:
                millis = parse_millis(joda, text, zone_id) if isinstance(text, str) else None
                if self.engine is not None and isinstance(text, str):
                    self.engine.check_joda(joda, zone_id, locale, text, millis, _date_disagreement(text, joda, zone_id, millis))
                if millis is None:
                    continue
                event.set_field(target, _EPOCH + dt.timedelta(milliseconds=millis))
                return True
            for tag in failure_tags:
                event.add_tag(tag)
            return False

        return date

    def _register_translate(self, plugin: Plugin) -> Filter:
        return register_translate(plugin, self.mounts)

    @staticmethod
    def _register_useragent(plugin: Plugin) -> Filter:
        return register_useragent(plugin)

    def _register_uuid(self, plugin: Plugin) -> Filter:
        require_options(plugin, {"target"})
        path = field_path(plugin.get("target"))

        def set_uuid(event: Event) -> bool:
            # logstash-plugins/logstash-filter-uuid lib/logstash/filters/uuid.rb (filter): overwrite defaults to
            # false, so `event[target] ||= SecureRandom.uuid` sets only a missing (nil) field.
            if event.get_field(path) is None:
                event.set_field(path, str(uuid.uuid4()))
            return True

        return set_uuid

    def _register_fingerprint(self, plugin: Plugin) -> Filter:
        require_options(plugin, {"source", "concatenate_sources", "method", "target"})
        if plugin.get("method") != "SHA256" or not plugin.get("concatenate_sources"):
            raise NotImplementedError("fingerprint is modelled for SHA256 over concatenated sources only")
        sources = [(source, field_path(source)) for source in sorted(plugin.get("source"))]
        target = field_path(plugin.get("target"))

        def fingerprint(event: Event) -> bool:
            # logstash-plugins/logstash-filter-fingerprint lib/logstash/filters/fingerprint.rb (filter,
            # concatenate_sources): sources sorted, "|name|value" each (a missing field's nil interpolates
            # as ""), a closing "|", then the hex digest (base64encode off).
            joined = "".join(
                f"|{source}|{'' if (value := event.get_field(path)) is None else value}" for source, path in sources
            ) + "|"
            event.set_field(target, hashlib.sha256(joined.encode()).hexdigest())
            return True

        return fingerprint


def _date_disagreement(text: str, joda: str, zone_id: str, millis: int | None) -> Callable[[object], EngineDisagreement]:
    return lambda real: EngineDisagreement(f"date model and Joda disagree on {text!r} ({joda!r} in {zone_id}): {millis} != {real}")
