"""The filter plugins logstash/pipeline/django.conf uses: grok, kv, mutate, date, uuid, fingerprint."""

import datetime as dt
import hashlib
import re
import uuid

from config.time_zones import time_zone_problem

from .grok import EngineDisagreement
from .logstash_config import Plugin, field_path
from .logstash_dates import parse_millis
from .logstash_events import Event
from .logstash_options import require_options
from .logstash_patterns import PatternLibrary, patterns_dir_files

# The zone of the Logstash image's JVM, used by a date filter without timezone (TimestampParserFactory.java).
JVM_TIME_ZONE = "UTC"


class FilterPlugins:
    """The modelled filters, compiling grok expressions in ``library``, checking dates on ``engine``'s Joda."""

    def __init__(self, library: PatternLibrary, engine=None):
        self.library = library
        self.engine = engine

    def apply(self, plugin: Plugin, event: Event) -> None:
        """Run the filter ``plugin`` (its ``${VAR}`` substituted) on ``event``; on success, its common options."""
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
        require_options(plugin, {"match", "pattern_definitions", "overwrite", "tag_on_failure", "patterns_dir", "patterns_files_glob"})
        overwrite = set(plugin.get("overwrite", []))
        files = patterns_dir_files(plugin.get("patterns_dir", []), plugin.get("patterns_files_glob", "*"))
        for source, expressions in plugin.get("match").items():
            text = event.get_field(field_path(source))
            if isinstance(text, (list, dict)):
                raise NotImplementedError("grok on an array or hash field is not modelled")
            for expression in expressions if isinstance(expressions, list) else [expressions]:
                # match_against_groks: input.to_s, so a missing field is matched as "".
                grok = self.library.grok(expression, plugin.get("pattern_definitions", {}), file_patterns=files)
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
        require_options(
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
        require_options(plugin, {"rename", "replace"})
        for source, target in plugin.get("rename", {}).items():
            value = event.remove_field(field_path(source))
            if value is not None:
                event.set_field(field_path(target), value)
        for reference, value in plugin.get("replace", {}).items():
            event.set_field(field_path(reference), event.sprintf(value))
        return True

    def _filter_date(self, plugin: Plugin, event: Event) -> bool:
        """logstash-plugins/logstash-filter-date: JodaParser.java's parseMillis, here and on Joda."""
        require_options(plugin, {"match", "timezone", "target", "tag_on_failure", "locale"})
        source, *formats = plugin.get("match")
        text = event.get_field(field_path(source))
        zone_id = plugin.get("timezone") or JVM_TIME_ZONE
        # The zone is built with DateTimeZone.forID when the pipeline loads: a name Joda refuses stops it.
        problem = time_zone_problem(zone_id)
        if problem:
            raise ValueError(f"the date filter cannot load: {problem}")
        for joda in formats:
            millis = parse_millis(joda, text, zone_id) if isinstance(text, str) else None
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
        require_options(plugin, {"target"})
        path = field_path(plugin.get("target"))
        # logstash-plugins/logstash-filter-uuid lib/logstash/filters/uuid.rb (filter): overwrite defaults to
        # false, so `event[target] ||= SecureRandom.uuid` sets only a missing (nil) field.
        if event.get_field(path) is None:
            event.set_field(path, str(uuid.uuid4()))
        return True

    def _filter_fingerprint(self, plugin: Plugin, event: Event) -> bool:
        require_options(plugin, {"source", "concatenate_sources", "method", "target"})
        if plugin.get("method") != "SHA256" or not plugin.get("concatenate_sources"):
            raise NotImplementedError("fingerprint is modelled for SHA256 over concatenated sources only")
        # logstash-plugins/logstash-filter-fingerprint lib/logstash/filters/fingerprint.rb (filter, concatenate_sources):
        # sources sorted, "|name|value" each (a missing field's nil interpolates as ""), a closing "|", then the
        # hex digest (base64encode off).
        joined = "".join(
            f"|{source}|{'' if (value := event.get_field(field_path(source))) is None else value}"
            for source in sorted(plugin.get("source"))
        ) + "|"
        event.set_field(field_path(plugin.get("target")), hashlib.sha256(joined.encode()).hexdigest())
        return True
