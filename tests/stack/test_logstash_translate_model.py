"""The translate filter model (stack_models/logstash_translate.py) against the plugin's own expectations.

Expected values come from logstash-plugins/logstash-filter-translate 3.5.0 spec/filters/translate_spec.rb
(its spec/fixtures/dict.json is {"a": 10, "b": 20, "c": 30}) where a case exists there, else from the
source line the model cites.
"""

import json
from pathlib import Path

import pytest

from stack_models.grok import PYGROK_PATTERNS_DIR, load_patterns
from stack_models.logstash_events import Event
from stack_models.logstash_pipeline import Pipeline

PATTERNS = load_patterns(PYGROK_PATTERNS_DIR)
CONTAINER_DIR = "/usr/share/logstash/pipeline"
SPEC_DICT_JSON = '{\n  "a" : 10,\n  "b" : 20,\n  "c" : 30\n}\n'


def translate(tmp_path: Path, options: str, dictionary: str | bytes = SPEC_DICT_JSON, name: str = "dict.json") -> Pipeline:
    """A pipeline of one translate filter whose dictionary_path is the container's path of ``name``."""
    (tmp_path / name).write_bytes(dictionary.encode() if isinstance(dictionary, str) else dictionary)
    config = tmp_path / "test.conf"
    config.write_text(f'filter {{ translate {{ dictionary_path => "{CONTAINER_DIR}/{name}" {options} }} }}')
    return Pipeline(PATTERNS, {}, path=config, mounts={CONTAINER_DIR: tmp_path})


def run(pipeline: Pipeline, fields: dict) -> Event:
    return pipeline.filter(Event(fields))


def test_a_json_file_gives_its_values_as_loaded(tmp_path):
    # translate_spec.rb "loading a dictionary" / "when using a json file": status "b" -> 20, an Integer.
    pipeline = translate(tmp_path, 'source => "status" target => "translation"')
    assert run(pipeline, {"status": "b"}) == {"status": "b", "translation": 20}


def test_the_source_is_coerced_to_a_string(tmp_path):
    # translate_spec.rb "exact translation": status 200 (an Integer) -> "OK" (its dictionary inline there).
    pipeline = translate(tmp_path, 'source => "status" target => "translation"',
                         '{"200": "OK", "300": "Redirect", "400": "Client Error", "500": "Server Error"}')
    assert run(pipeline, {"status": 200})["translation"] == "OK"
    # single_value_update.rb CoerceArray: the first item's to_s; an empty array's first is nil, "".
    assert run(pipeline, {"status": ["300", "500"]})["translation"] == "Redirect"
    empty_key = translate(tmp_path, 'source => "s" target => "t"', '{"": "empty", "true": "yes"}')
    assert run(empty_key, {"s": []})["t"] == "empty"
    assert run(empty_key, {"s": True})["t"] == "yes"


def test_fallback_static_and_with_a_reference(tmp_path):
    # translate_spec.rb "fallback value": "static configuration" and "allow sprintf".
    static = translate(tmp_path, 'source => "status" target => "translation" fallback => "no match"')
    assert run(static, {"status": "200"})["translation"] == "no match"
    dynamic = translate(tmp_path, 'source => "status" target => "translation" fallback => "%{missing_translation}"')
    event = run(dynamic, {"status": "200", "missing_translation": "missing no match"})
    assert event["translation"] == "missing no match"


def test_an_empty_json_file_is_an_empty_dictionary(tmp_path):
    # translate_spec.rb "loading an empty dictionary" / "when using a json file".
    pipeline = translate(tmp_path, 'source => "status" target => "translation" fallback => "no match"', "")
    assert run(pipeline, {"status": "b"})["translation"] == "no match"


def test_a_byte_order_mark_is_dropped(tmp_path):
    # json_file.rb: IO.read(..., mode: 'r:bom|utf-8').
    pipeline = translate(tmp_path, 'source => "status" target => "translation"', b"\xef\xbb\xbf" + SPEC_DICT_JSON.encode())
    assert run(pipeline, {"status": "a"})["translation"] == 10


def test_an_existing_target_is_kept_unless_override(tmp_path):
    # single_value_update.rb test_for_inclusion; translate.rb filter: no filter_matched, so no add_tag.
    kept = translate(tmp_path, 'source => "status" target => "translation" fallback => "x" add_tag => ["done"]')
    assert run(kept, {"status": "a", "translation": "before"}) == {"status": "a", "translation": "before"}
    replaced = translate(tmp_path, 'source => "status" target => "translation" override => true')
    assert run(replaced, {"status": "a", "translation": "before"})["translation"] == 10


def test_a_missing_source_changes_nothing_even_with_a_fallback(tmp_path):
    pipeline = translate(tmp_path, 'source => "status" target => "translation" fallback => "x" add_tag => ["done"]')
    assert run(pipeline, {"other": "a"}) == {"other": "a"}
    # A null source is there (Event#include?), its to_s is "": the fallback applies.
    assert run(pipeline, {"status": None}) == {"status": None, "translation": "x", "tags": ["done"]}


def test_no_match_without_fallback_leaves_the_event_and_skips_the_common_options(tmp_path):
    pipeline = translate(tmp_path, 'source => "status" target => "translation" add_tag => ["done"]')
    assert run(pipeline, {"status": "z"}) == {"status": "z"}


def test_in_place_translation_and_its_common_options_even_without_a_match(tmp_path):
    # translate_spec.rb "default target" / "ECS mode": message "foo" becomes "bar" in place.
    pipeline = translate(tmp_path, 'source => "message" target => "message" add_tag => ["seen"]', '{"foo": "bar"}')
    assert run(pipeline, {"message": "foo"}) == {"message": "bar", "tags": ["seen"]}
    # translate.rb filter: `filter_matched(event) if @updater.update(event) || @source == @target`.
    assert run(pipeline, {"message": "nope"}) == {"message": "nope", "tags": ["seen"]}


def test_each_event_gets_its_own_copy_of_a_hash_value(tmp_path):
    # fetch_strategy/file.rb Exact#fetch: LogStash::Util.deep_clone of the dictionary's value.
    table = {"user_logged_in": {"kind": "event", "category": ["authentication", "session"], "type": ["start"]}}
    pipeline = translate(tmp_path, 'source => "[event][action]" target => "[@metadata][categories]"', json.dumps(table))
    first, second = (run(pipeline, {"event": {"action": "user_logged_in"}}) for _ in range(2))
    first["@metadata"]["categories"]["category"].append("changed")
    assert second["@metadata"]["categories"] == {"kind": "event", "category": ["authentication", "session"], "type": ["start"]}
    third = run(pipeline, {"event": {"action": "user_logged_in"}})
    assert third["@metadata"]["categories"]["category"] == ["authentication", "session"]


@pytest.mark.parametrize(("options", "refused"), [
    ('source => "s"', "without target"),
    ('source => "s" target => "t" exact => false', "exact => true only"),
    ('source => "s" target => "t" regex => true', r"\['regex'\]"),
    ('source => "s" target => "t" iterate_on => "s"', r"\['iterate_on'\]"),
    ('source => "s" target => "t" refresh_behaviour => "replace"', r"\['refresh_behaviour'\]"),
    ('source => "s" target => "t" ecs_compatibility => "v8"', r"\['ecs_compatibility'\]"),
    ('source => "s" target => "t" override => "true"', "bare true or false"),
])
def test_unmodelled_options_are_refused(tmp_path, options, refused):
    with pytest.raises(NotImplementedError, match=refused):
        run(translate(tmp_path, options), {"s": "a"})


def test_unmodelled_dictionaries_are_refused(tmp_path):
    with pytest.raises(NotImplementedError, match="yml"):
        run(translate(tmp_path, 'source => "s" target => "t"', "a: b\n", name="dict.yml"), {"s": "a"})
    with pytest.raises(NotImplementedError, match="float"):
        run(translate(tmp_path, 'source => "s" target => "t"', '{"a": 1.5}'), {"s": "a"})


@pytest.mark.parametrize(("options", "dictionary", "name", "error"), [
    # translate_spec.rb "when using an unknown file": "Dictionary ... has a non valid format".
    ('source => "s" target => "t"', "a,b", "dict.other", "has a non valid format"),
    ('source => "s" target => "t"', '["a", "b"]', "dict.json", "no implicit conversion into Hash"),
    ('source => "s" target => "t"', '{"a": NaN}', "dict.json", "NaN is not JSON"),
    ('target => "t"', SPEC_DICT_JSON, "dict.json", "No source field specified"),
    ('source => "s" target => "s" override => false', SPEC_DICT_JSON, "dict.json", "override => false"),
])
def test_configurations_logstash_refuses_stop_the_model_too(tmp_path, options, dictionary, name, error):
    with pytest.raises(ValueError, match=error):
        run(translate(tmp_path, options, dictionary, name), {"s": "a"})


def test_a_missing_dictionary_file_stops_the_pipeline(tmp_path):
    config = tmp_path / "test.conf"
    config.write_text(f'filter {{ translate {{ source => "s" target => "t" dictionary_path => "{CONTAINER_DIR}/none.json" }} }}')
    pipeline = Pipeline(PATTERNS, {}, path=config, mounts={CONTAINER_DIR: tmp_path})
    with pytest.raises(ValueError, match="File does not exist or cannot be opened"):
        run(pipeline, {"s": "a"})
