"""mutate's merge and copy, and the options every filter has, against the plugins' own expectations.

Expected values come from logstash-plugins/logstash-filter-mutate 3.6.0 spec/filters/mutate_spec.rb and
elastic/logstash logstash-core/spec/logstash/filters/base_spec.rb where a case exists there, else from the
source line the model cites (lib/logstash/filters/mutate.rb, lib/logstash/util/decorators.rb).
"""

from pathlib import Path

import pytest

from stack_models.grok import PYGROK_PATTERNS_DIR, load_patterns
from stack_models.logstash_events import Event
from stack_models.logstash_pipeline import Pipeline

PATTERNS = load_patterns(PYGROK_PATTERNS_DIR)


def filtered(tmp_path: Path, filters: str, fields: dict) -> Event:
    config = tmp_path / "test.conf"
    config.write_text(f"filter {{ {filters} }}")
    return Pipeline(PATTERNS, {}, path=config).filter(Event(fields))


# ---- mutate merge: mutate_spec.rb "merge ..." cases, merge => [ "list", "foo" ] written as a hash ------------
@pytest.mark.parametrize(("fields", "expected_list"), [
    ({"foo": "bar"}, ["bar"]),  # "merge string field into inexisting field"
    ({"foo": "bar", "list": []}, ["bar"]),  # "merge string field into empty array"
    ({"foo": "bar", "list": ["baz"]}, ["baz", "bar"]),  # "merge string field into existing array"
    ({"foo": ["bar"], "list": ["baz"]}, ["baz", "bar"]),  # "merge non empty array field into existing array"
    ({"foo": [], "list": ["baz"]}, ["baz"]),  # "merge empty array field into existing array"
    ({"foo": ["bar"], "list": "baz"}, ["baz", "bar"]),  # "merge array field into string field"
    ({"foo": "bar", "list": "baz"}, ["baz", "bar"]),  # "merge string field into string field"
])
def test_merge_as_the_plugin_spec_expects(tmp_path, fields, expected_list):
    event = filtered(tmp_path, 'mutate { merge => { "list" => "foo" } }', fields)
    assert event["list"] == expected_list
    assert event["foo"] == fields["foo"]


def test_merge_keeps_duplicates_and_fills_a_missing_destination_with_nothing(tmp_path):
    # mutate.rb merge: Array#concat, no de-duplication.
    assert filtered(tmp_path, 'mutate { merge => { "list" => "foo" } }', {"foo": "bar", "list": ["bar"]})["list"] == ["bar", "bar"]
    # Array(nil).concat(Array(nil)) is set all the same.
    assert filtered(tmp_path, 'mutate { merge => { "list" => "foo" } }', {"other": 1}) == {"other": 1, "list": []}


def test_merge_of_hashes_and_of_a_hash_with_an_array(tmp_path):
    merged = filtered(tmp_path, 'mutate { merge => { "h" => "g" } }', {"h": {"a": 1, "b": 2}, "g": {"b": 3, "c": 4}})
    assert merged["h"] == {"a": 1, "b": 3, "c": 4}
    # "Not possible to merge an array and a hash": nothing changes, a missing added field included.
    assert filtered(tmp_path, 'mutate { merge => { "h" => "g" } }', {"h": {"a": 1}, "g": ["x"]})["h"] == {"a": 1}
    assert filtered(tmp_path, 'mutate { merge => { "h" => "g" } }', {"h": {"a": 1}}) == {"h": {"a": 1}}


def test_merge_of_several_fields_reads_the_destination_once(tmp_path):
    # mutate.rb merge: dest_field_value is read before the loop; Array() of an array is that array (concat
    # grows it), of a string a new one each time (only the last added field stays).
    both = {"a": "x", "b": "y"}
    assert filtered(tmp_path, 'mutate { merge => { "list" => ["a", "b"] } }', {**both, "list": ["z"]})["list"] == ["z", "x", "y"]
    assert filtered(tmp_path, 'mutate { merge => { "list" => ["a", "b"] } }', {**both, "list": "z"})["list"] == ["z", "y"]


def test_merge_in_array_form_is_refused(tmp_path):
    with pytest.raises(NotImplementedError, match="array form"):
        filtered(tmp_path, 'mutate { merge => ["list", "foo"] }', {"foo": "bar"})


# ---- mutate copy: mutate_spec.rb "#copy" -------------------------------------------------------------------
@pytest.mark.parametrize("value", ["foobar", ["foo", "bar"], {"foo": "bar"}])
def test_copy_is_a_deep_copy(tmp_path, value):
    event = filtered(tmp_path, 'mutate { copy => { "field" => "target" } }', {"field": value})
    assert event["target"] == value
    if not isinstance(value, str):
        assert event["target"] is not event["field"]


def test_copy_skips_a_missing_or_null_source_and_replaces_the_destination(tmp_path):
    assert filtered(tmp_path, 'mutate { copy => { "field" => "target" } }', {"target": "t"}) == {"target": "t"}
    assert filtered(tmp_path, 'mutate { copy => { "field" => "target" } }', {"field": None, "target": "t"})["target"] == "t"
    replaced = filtered(tmp_path, 'mutate { copy => { "field" => "[a][target]" } }', {"field": "new", "a": {"target": ["old"]}})
    assert replaced["a"] == {"target": "new"}


def test_merge_and_copy_run_after_rename_and_in_that_order(tmp_path):
    # mutate.rb filter: rename ... gsub, then merge, then copy, whatever the config's order.
    event = filtered(
        tmp_path,
        'mutate { copy => { "list" => "snapshot" } merge => { "list" => "added" } rename => { "old" => "added" } }',
        {"list": ["a"], "old": "b"},
    )
    assert event == {"list": ["a", "b"], "added": "b", "snapshot": ["a", "b"]}


# ---- the common options: base_spec.rb ---------------------------------------------------------------------
def test_add_field_appends_to_a_field_already_there(tmp_path):
    # base_spec.rb "adding multiple values to one field": ["new_value", "new_value_2"].
    event = filtered(tmp_path, 'mutate { add_field => { "new_field" => ["new_value", "new_value_2"] } }', {"message": "example"})
    assert event["new_field"] == ["new_value", "new_value_2"]
    # decorators.rb add_fields: Array(existing) << value.
    assert filtered(tmp_path, 'mutate { add_field => { "f" => "%{g}" } }', {"f": "a", "g": "b"})["f"] == ["a", "b"]


@pytest.mark.parametrize(("tags", "expected"), [
    (None, ["test"]),  # "tags parsing with one tag"
    (["t1", "t2"], ["t1", "t2", "test"]),
    ("foo", ["foo", "test"]),  # "tags parsing with one tag as string value"
    ("test", ["test", "test"]),  # "tags parsing with duplicate tags": "completely weird" but expected
])
def test_add_tag(tmp_path, tags, expected):
    fields = {"type": "noop"} if tags is None else {"type": "noop", "tags": tags}
    assert filtered(tmp_path, 'mutate { add_tag => ["test"] }', fields)["tags"] == expected


@pytest.mark.parametrize(("tags", "expected"), [
    ("foo", ["foo"]),  # base_spec.rb "remove_tag"
    ("t2", []),
    (["t4"], ["t4"]),
    (["t1", "t2", "t3"], ["t1"]),
    (["t2", "t1", "t2"], ["t1"]),  # Array#delete: every occurrence
])
def test_remove_tag(tmp_path, tags, expected):
    assert filtered(tmp_path, 'mutate { remove_tag => ["t2", "t3"] }', {"tags": tags})["tags"] == expected


def test_remove_tag_leaves_an_event_without_tags_without_tags(tmp_path):
    # base.rb filter_matched: `return unless tags`.
    assert filtered(tmp_path, 'mutate { remove_tag => ["t2"] }', {"message": "m"}) == {"message": "m"}


def test_remove_field_and_dynamic_remove_tag(tmp_path):
    # base_spec.rb "remove_field with dynamic value in field name" and "remove_tag with dynamic value".
    assert filtered(tmp_path, 'mutate { remove_field => ["%{blackhole}"] }', {"blackhole": "go", "go": "away"}) == {"blackhole": "go"}
    event = filtered(tmp_path, 'mutate { remove_tag => ["%{blackhole}"] }', {"tags": ["t1", "goaway", "t3"], "blackhole": "goaway"})
    assert event["tags"] == ["t1", "t3"]


def test_convert_integer_as_the_plugin_spec_expects(tmp_path):
    # spec/filters/mutate_spec.rb, "convert should work on nested fields" and "convert booleans to integer".
    event = filtered(tmp_path, 'mutate { convert => { "[foo][bar]" => "integer" "[a]" => "integer" "[b]" => "integer" } }',
                     {"foo": {"bar": "1000"}, "a": True, "b": " 1,024 "})
    assert (event["foo"]["bar"], event["a"], event["b"]) == (1000, 1, 1024)


def test_convert_integer_refuses_text_it_does_not_model(tmp_path):
    with pytest.raises(NotImplementedError, match="convert_integer"):
        filtered(tmp_path, 'mutate { convert => { "[a]" => "integer" } }', {"a": "0x1F"})
