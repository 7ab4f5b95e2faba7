"""The translate filter (logstash-plugins/logstash-filter-translate 3.5.0) as the pipeline uses it: an exact
lookup of one value in a JSON dictionary file.

Logstash 9.5 bundles 3.5.1 (elastic/logstash docs/release-notes/index.md, 9.4.5), whose one change keeps the
old dictionary when a reload fails (logstash-filter-translate issue #112): offline nothing reloads.
Files of that repository, named next to each behaviour: lib/logstash/filters/translate.rb (register,
filter), single_value_update.rb, dictionary/file.rb, dictionary/json_file.rb, fetch_strategy/file.rb.
Not modelled, and refused: an inline dictionary, YAML and CSV files, regex, exact => false, iterate_on,
a missing target (with ECS compatibility v8, the source itself), the deprecated field and destination.
"""

import copy
import json
from collections.abc import Callable
from pathlib import Path

from .logstash_config_tree import Plugin, field_path
from .logstash_events import Event
from .logstash_options import require_options
from .logstash_patterns import host_path


def register_translate(plugin: Plugin, mounts: dict[str, Path]) -> Callable[[Event], bool]:
    require_options(plugin, {"source", "target", "dictionary_path", "override", "fallback", "exact", "refresh_interval"})
    source, target = plugin.get("source"), plugin.get("target")
    if source is None:
        raise ValueError("No source field specified, please provide the `source => ...` option")  # register
    if target is None:
        raise NotImplementedError("translate without target (ECS v8: in place, translate.rb register) is not modelled")
    if plugin.get("dictionary_path") is None:
        raise NotImplementedError("translate's inline dictionary is not modelled: use dictionary_path")
    if plugin.get("exact", True) is not True:
        raise NotImplementedError("translate is modelled with exact => true only")
    if plugin.get("override") not in (None, True, False):
        raise NotImplementedError("override other than a bare true or false is not modelled")
    # register: override is nil unless set; in place (source == target, the strings as written) it defaults
    # to true, and false is refused. refresh_interval only schedules reloads: nothing to model offline.
    override = plugin.get("override")
    if source == target:
        if override is False:
            raise ValueError("Configuring `override => false` with in-place translation has no effect, please remove the option")
        override = True
    dictionary = load_json_dictionary(host_path(plugin.get("dictionary_path"), mounts))
    source_path, target_path, fallback = field_path(source), field_path(target), plugin.get("fallback")

    def translate(event: Event) -> bool:
        # single_value_update.rb test_for_inclusion: skip when the target is there and override is off, or
        # when the source is not there (Event#include?: a null field is there).
        if (not override and event.includes(target_path)) or not event.includes(source_path):
            return False
        key = _coerced(event.get_field(source_path))
        if key in dictionary:
            # fetch_strategy/file.rb Exact#fetch: LogStash::Util.deep_clone of the value, so no two events
            # share it.
            event.set_field(target_path, copy.deepcopy(dictionary[key]))
            matched = True
        elif fallback is not None:
            event.set_field(target_path, event.sprintf(fallback))
            matched = True
        else:
            matched = False
        # translate.rb filter: filter_matched (the common options) on a match or fallback, and always in place.
        return matched or source == target

    return translate


def load_json_dictionary(path: Path) -> dict:
    """dictionary/file.rb create (the type by extension) and json_file.rb read_file_into_dictionary."""
    if path.suffix in (".yml", ".yaml", ".csv"):
        raise NotImplementedError(f"translate's {path.suffix} dictionaries are not modelled")
    if path.suffix != ".json":
        raise ValueError(f"Translate: Dictionary {path} has a non valid format")
    # config/mixin.rb validates a :path option with File.exist?: a missing file stops the pipeline.
    if not path.exists():
        raise ValueError(f"File does not exist or cannot be opened {path}")
    # IO.read(path, mode: 'r:bom|utf-8') drops a byte order mark; an empty file adds nothing.
    content = path.read_bytes().decode("utf-8-sig")
    if not content:
        return {}
    # LogStash::Json.load (logstash-core lib/logstash/json.rb): JrJackson::Ruby.parse, Jackson's strict JSON,
    # so no NaN or Infinity. Its Float values are not modelled (the table holds strings and lists).
    loaded = json.loads(content, parse_constant=_refused_constant, parse_float=_unmodelled_float)
    if not isinstance(loaded, dict):
        # @dictionary.update(non-hash) raises TypeError, which load_dictionary turns into DictionaryFileError.
        raise ValueError(f"Translate: no implicit conversion into Hash when loading dictionary file at {path}")
    return loaded


def _coerced(value) -> str:
    """single_value_update.rb's coercers: a String as is, an Array its first item's to_s, anything else to_s."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return value
    if value is None:
        return ""  # nil.to_s (an empty array's first, or a null field)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise NotImplementedError(f"translate's to_s of a {type(value).__name__} source is not modelled")


def _refused_constant(name: str):
    raise ValueError(f"Translate: {name} is not JSON (Jackson refuses it)")


def _unmodelled_float(text: str):
    raise NotImplementedError(f"a float ({text}) in a translate dictionary is not modelled")
