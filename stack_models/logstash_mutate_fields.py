"""mutate's merge and copy (logstash-plugins/logstash-filter-mutate 3.6.0 lib/logstash/filters/mutate.rb),
which its filter method runs last, in that order: after rename, update, replace, convert, gsub, the case
changes, strip, split and join, whatever the order in the config.
"""

import copy
import re

from .logstash_config_tree import field_path
from .logstash_decorators import ruby_array
from .logstash_events import Event


def parsed_pairs(option: str, config) -> list[tuple[tuple[str, ...], object]]:
    """A ``{ "dest" => "source" }`` option as paths; the array form config/mixin.rb also accepts is not modelled."""
    if not isinstance(config, dict):
        raise NotImplementedError(f"mutate's {option} in array form is not modelled: write it as a hash")
    return [(field_path(key), value) for key, value in config.items()]


def merge(event: Event, merges: list[tuple[tuple[str, ...], object]]) -> None:
    """mutate.rb merge: each added field (one, or each of a list) into the destination."""
    for destination, added_fields in merges:
        # The destination is read once, before the added fields: event.get gives a fresh Ruby copy, which
        # Array() returns as is when it is an array (so concat grows it from one added field to the next) and
        # wraps anew when it is a string or nil (so only the last added field stays), and a hash's update
        # grows it in place. The model keeps its own copy, as event.get does.
        destination_value = copy.deepcopy(event.get_field(destination))
        for added_field in ruby_array(added_fields):
            added_value = event.get_field(field_path(added_field))
            if isinstance(destination_value, dict) != isinstance(added_value, dict):
                continue  # "Not possible to merge an array and a hash" (logged), nothing changed
            if isinstance(destination_value, dict):
                destination_value.update(copy.deepcopy(added_value))
                merged = destination_value
            else:
                merged = destination_value if isinstance(destination_value, list) else ruby_array(destination_value)
                # concat: no de-duplication; a missing added field (Array(nil)) adds nothing, but the
                # destination is still set, so a missing one becomes [].
                merged.extend(copy.deepcopy(ruby_array(added_value)))
            # event.set converts the Ruby value into the event's own (logstash-core Valuefier): a copy.
            event.set_field(destination, copy.deepcopy(merged))


def copy_fields(event: Event, copies: list[tuple[tuple[str, ...], object]]) -> None:
    """mutate.rb copy: a source that is missing or null is skipped; otherwise the destination, whatever it held,
    is set to LogStash::Util.deep_clone of the source's value."""
    for source, destination in copies:
        original = event.get_field(source)
        if original is None:
            continue
        event.set_field(field_path(destination), copy.deepcopy(original))


def integer_value(value):
    """mutate.rb convert_integer: a string stripped, its commas deleted; true and false 1 and 0; an Integer as it
    is. Only plain decimal text is modelled: the hex, float and exponent branches (BigDecimal) are not, and
    text they refuse raises in Logstash, which tags the event _mutate_error (mutate.rb, filter's rescue)."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    # Ruby's String#strip: NUL, TAB, LF, VT, FF, CR and space only.
    text = value.strip("\0\t\n\v\f\r ").replace(",", "") if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"[+-]?[0-9]+", text):
        raise NotImplementedError(f"mutate's convert_integer of {value!r} is not modelled")
    return int(text)
