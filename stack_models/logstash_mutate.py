"""Logstash's mutate filter (logstash-plugins/logstash-filter-mutate lib/logstash/filters/mutate.rb): the operations
logstash/pipeline/*.conf use, registered once; merge, copy and the integer conversion are in
logstash_mutate_fields.py."""

from collections.abc import Callable

import regex

from .grok import EngineDisagreement, plain_ruby_regex
from .logstash_config_tree import Plugin, field_path
from .logstash_events import Event
from .logstash_mutate_fields import copy_fields, integer_value, merge, parsed_pairs
from .logstash_options import require_options

# mutate.rb's TRUE_REGEX and FALSE_REGEX (both /.../i), which convert_boolean matches value.to_s against.
_TRUE_REGEX = r"^(true|t|yes|y|1|1.0)$"
_FALSE_REGEX = r"^(false|f|no|n|0|0.0)$"


def register_mutate(plugin: Plugin, engine=None) -> Callable[[Event], bool]:
    # logstash-plugins/logstash-filter-mutate lib/logstash/filters/mutate.rb (filter): rename (of a present
    # field), then replace, then convert, then gsub, then merge, then copy, whatever the order in the config.
    require_options(plugin, {"rename", "replace", "convert", "gsub", "merge", "copy"})
    renames = [(field_path(source), field_path(target)) for source, target in plugin.get("rename", {}).items()]
    replaces = [(field_path(reference), value) for reference, value in plugin.get("replace", {}).items()]
    converts = [(field_path(reference), kind) for reference, kind in plugin.get("convert", {}).items()]
    if any(kind not in ("boolean", "integer") for _, kind in converts):
        raise NotImplementedError("mutate's convert is modelled for boolean and integer only")
    gsubs = _gsubs(plugin.get("gsub", []))
    merges, copies = parsed_pairs("merge", plugin.get("merge", {})), parsed_pairs("copy", plugin.get("copy", {}))

    def mutate(event: Event) -> bool:
        for source, target in renames:
            value = event.remove_field(source)
            if value is not None:
                event.set_field(target, value)
        for path, value in replaces:
            event.set_field(path, event.sprintf(value))
        for path, kind in converts:
            value = event.get_field(path)
            convert = (lambda item: _boolean(item, engine)) if kind == "boolean" else integer_value
            if isinstance(value, dict):
                continue  # convert: a hash is skipped; a missing (nil) field too
            if isinstance(value, list):
                event.set_field(path, [item if item is None else convert(item) for item in value])
            elif value is not None:
                event.set_field(path, convert(value))
        for path, pattern, compiled, replacement in gsubs:
            text = event.get_field(path)
            if not isinstance(text, str):
                continue  # gsub skips a missing field; arrays are not modelled (none is gsub'd here)
            result = compiled.sub(replacement, text)
            if engine is not None:
                engine.check_gsub(pattern, replacement, text, result, _gsub_disagreement(pattern, text, result))
            event.set_field(path, result)
        merge(event, merges)
        copy_fields(event, copies)
        return True

    return mutate


def _boolean(value, engine):
    """mutate.rb convert_boolean: true for value.to_s matching TRUE_REGEX, false for "" or FALSE_REGEX, else the
    value as it was. Each regexp is /.../i with Ruby's line anchors, checked on Joni too."""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if _matches_boolean_regex(_TRUE_REGEX, text, engine):
        return True
    if text == "" or _matches_boolean_regex(_FALSE_REGEX, text, engine):
        return False
    return value


def _matches_boolean_regex(pattern: str, text: str, engine) -> bool:
    found = regex.compile(pattern, regex.IGNORECASE | regex.MULTILINE).search(text) is not None
    if engine is not None:
        engine.check_regex_match("(?i)" + pattern, text, found, lambda real: EngineDisagreement(
            f"convert_boolean model and Joni disagree on {text!r} =~ /{pattern}/i: {found} != {real}"))
    return found


def _gsubs(config: list) -> list[tuple[tuple[str, ...], str, object, str]]:
    """mutate.rb register: gsub's [field, needle, replacement] triples, each needle Regexp.new(needle)."""
    if len(config) % 3:
        raise ValueError(f"Invalid gsub configuration {config}: gsub requires 3 elements per entry")
    parsed = []
    for index in range(0, len(config), 3):
        field, needle, replacement = config[index : index + 3]
        if "%{" in needle or "%{" in replacement or "\\" in replacement:
            raise NotImplementedError("gsub with field references or backslashes in its replacement is not modelled")
        parsed.append((field_path(field), needle, plain_ruby_regex(needle), replacement))
    return parsed


def _gsub_disagreement(pattern: str, text: str, model: str) -> Callable[[object], EngineDisagreement]:
    return lambda real: EngineDisagreement(f"gsub model and Joni disagree on {text!r} ({pattern!r}): {model!r} != {real!r}")
