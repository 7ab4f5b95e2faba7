"""Setup brings the indices its templates already match up to the current template, additively
(setup/provision/existing_indices.py), against the fake Elasticsearch (tests/support/fake_indices.py).

The upgrade is played as a user lives it: setup runs with the previous release's template, Logstash's index
of the day is created from it, then setup runs with this release's template and ingest pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provision.mapping_additions import mapping_additions
from tests.support.paths import REPO_ROOT
from tests.support.setup_assets import write_json
from tests.support.setup_run import json_call, run_setup, step_lines, writes

# The repository's django-logs template at 843ac78, before issue 20 (see previous_assets/README.md).
PREVIOUS_TEMPLATE = json.loads((Path(__file__).parent / "previous_assets" / "django-logs-template-843ac78.json").read_text())
TEMPLATE = json.loads((REPO_ROOT / "elasticsearch" / "index_templates" / "django-logs.json").read_text())
PIPELINE = json.loads((REPO_ROOT / "elasticsearch" / "ingest_pipelines" / "django-logs.json").read_text())
TODAY, YESTERDAY = "django-logs-2026.12.08", "django-logs-2026.12.07"
# ECS 9.4 changed these types (docs/ecs.md "Types"); an existing index keeps them.
KEPT_LINE = (f"existing index {TODAY}: url.path kept as keyword, url.original kept as keyword, "
             f"error.stack_trace kept as match_only_text until {TODAY} ages out (its template maps them otherwise)")


def leaves(properties: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every field and multi-field of a mapping by dotted path, with its definition (without sub-fields)."""
    found = {}
    for name, definition in properties.items():
        path = f"{prefix}{name}"
        if "properties" in definition:
            found.update(leaves(definition["properties"], f"{path}."))
            continue
        found[path] = {key: value for key, value in definition.items() if key != "fields"}
        found.update(leaves(definition.get("fields", {}), f"{path}."))
    return found


def mapping_of(stack, index: str) -> dict[str, Any]:
    return stack.indices.indices[index]["mappings"]


@pytest.fixture
def previous_release(stack, assets, passwords):
    """Setup's state and the day's index as the previous release left them; the assets are this release's."""
    template_path = assets / "elasticsearch" / "index_templates" / "django-logs.json"
    write_json(template_path, PREVIOUS_TEMPLATE)
    first = run_setup(stack, assets, passwords)
    assert first.returncode == 0, first.stdout + first.stderr
    stack.create_index(TODAY)
    write_json(template_path, TEMPLATE)
    write_json(assets / "elasticsearch" / "ingest_pipelines" / "django-logs.json", PIPELINE)
    return assets


def test_the_index_created_by_the_previous_template_lacks_the_new_fields_and_the_pipeline(stack, previous_release):
    index = stack.indices.indices[TODAY]

    assert "event.outcome" not in leaves(index["mappings"]["properties"])
    assert "index.final_pipeline" not in index["settings"]
    assert leaves(index["mappings"]["properties"])["url.path"]["type"] == "keyword"


def test_the_day_s_index_gains_every_new_field_and_the_final_pipeline_and_keeps_changed_types(
        stack, previous_release, passwords):
    already = len(stack.recorded())

    result = run_setup(stack, previous_release, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    have = leaves(mapping_of(stack, TODAY)["properties"])
    changed = {"url.path", "url.original", "url.original.text", "error.stack_trace", "error.stack_trace.text"}
    for path, definition in leaves(TEMPLATE["template"]["mappings"]["properties"]).items():
        if path not in changed:
            assert have.get(path) == definition, path
    assert have["url.path"] == {"type": "keyword", "ignore_above": 4096}
    assert have["url.original"] == {"type": "keyword", "ignore_above": 4096}
    assert have["url.original.text"] == {"type": "match_only_text"}
    assert have["error.stack_trace"] == {"type": "match_only_text"}
    assert "error.stack_trace.text" not in have
    assert have["@version"] == {"type": "keyword", "ignore_above": 64}  # a field the template dropped stays
    assert mapping_of(stack, TODAY)["dynamic"] == "false"
    assert stack.indices.indices[TODAY]["settings"]["index.final_pipeline"] == "django-logs"
    done = writes(stack.recorded()[already:])
    assert done.index(("PUT", "/_ingest/pipeline/django-logs")) < done.index(("PUT", "/_index_template/django-logs"))
    template_put = done.index(("PUT", "/_index_template/django-logs"))
    assert done.index(("PUT", f"/{TODAY}/_mapping")) > template_put
    assert done.index(("PUT", f"/{TODAY}/_settings")) > template_put
    [put] = [request for request in stack.recorded() if request.path == f"/{TODAY}/_mapping" and request.method == "PUT"]
    assert not changed & set(leaves(put.json()["properties"]))
    lines = result.stdout.splitlines()
    [added] = [line for line in lines if line.startswith(f"existing index {TODAY}: added ")]
    assert "event.outcome" in added and "user.name.text" in added and "related.ip" in added
    assert added.endswith("; index.final_pipeline django-logs")
    assert lines.count(KEPT_LINE) == 1


def test_a_second_run_writes_nothing_and_reports_the_index_unchanged(stack, previous_release, passwords):
    assert run_setup(stack, previous_release, passwords).returncode == 0
    already = len(stack.recorded())

    second = run_setup(stack, previous_release, passwords)

    assert second.returncode == 0, second.stdout + second.stderr
    assert writes(stack.recorded()[already:]) == []
    assert step_lines(second.stdout)[f"existing index {TODAY}"] == "unchanged"
    assert KEPT_LINE in second.stdout.splitlines()


def test_an_index_created_from_the_current_template_is_unchanged(stack, assets, passwords):
    write_json(assets / "elasticsearch" / "index_templates" / "django-logs.json", TEMPLATE)
    write_json(assets / "elasticsearch" / "ingest_pipelines" / "django-logs.json", PIPELINE)
    assert run_setup(stack, assets, passwords).returncode == 0
    stack.create_index(TODAY)
    already = len(stack.recorded())

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert step_lines(result.stdout)[f"existing index {TODAY}"] == "unchanged"
    assert "kept as" not in result.stdout
    assert writes(stack.recorded()[already:]) == []


def test_a_refused_mapping_update_exits_1_naming_the_index_and_elasticsearch_s_reason(stack, previous_release, passwords):
    stack.failing_writes[f"/{TODAY}/_mapping"] = 1

    result = run_setup(stack, previous_release, passwords)

    assert result.returncode == 1
    assert (f"PUT {TODAY}/_mapping failed: HTTP 500 exception: simulated failure of PUT /{TODAY}/_mapping. "
            f"{TODAY} was created from an earlier ") in result.stderr
    assert "index.final_pipeline" not in stack.indices.indices[TODAY]["settings"]


def test_an_index_deleted_between_the_read_and_the_write_is_skipped(stack, previous_release, passwords):
    stack.create_index(YESTERDAY)  # still from the previous template: setup has not run since
    stack.indices.vanish_after_listing.add(YESTERDAY)

    result = run_setup(stack, previous_release, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"existing index {YESTERDAY}: skipped, deleted while setup ran" in result.stdout.splitlines()
    assert stack.indices.indices[TODAY]["settings"]["index.final_pipeline"] == "django-logs"
    assert YESTERDAY not in stack.indices.indices


def test_a_closed_index_is_left_as_it_is(stack, previous_release, passwords):
    stack.create_index(YESTERDAY)
    stack.indices.close(YESTERDAY)
    before = json.dumps(stack.indices.indices[YESTERDAY], sort_keys=True)

    result = run_setup(stack, previous_release, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert YESTERDAY not in result.stdout
    assert json.dumps(stack.indices.indices[YESTERDAY], sort_keys=True) == before
    assert not [request for request in stack.recorded() if request.path.startswith(f"/{YESTERDAY}/")]


# -- what an index lacks ------------------------------------------------------------------------------------


def test_a_new_multi_field_is_sent_with_the_field_as_the_index_holds_it():
    index = {"properties": {"user": {"properties": {"name": {"type": "keyword", "ignore_above": 256,
                                                             "fields": {"raw": {"type": "keyword"}}}}}}}
    template = {"properties": {"user": {"properties": {"name": {"type": "keyword", "ignore_above": 1024,
                                                                "fields": {"text": {"type": "match_only_text"}}}}}}}

    additions = mapping_additions(index, template)

    assert additions.properties == {"user": {"properties": {"name": {
        "type": "keyword", "ignore_above": 256, "fields": {"raw": {"type": "keyword"}, "text": {"type": "match_only_text"}}}}}}
    assert additions.added == ["user.name.text"]
    assert additions.kept == []


def test_a_field_where_an_object_is_and_a_multi_field_of_another_type_are_kept_not_sent():
    index = {"properties": {"error": {"type": "keyword"},
                            "message": {"type": "keyword", "fields": {"text": {"type": "text"}}}}}
    template = {"properties": {"error": {"properties": {"type": {"type": "keyword"}}},
                               "message": {"type": "keyword", "fields": {"text": {"type": "match_only_text"}}}}}

    additions = mapping_additions(index, template)

    assert additions.properties == {}
    assert additions.kept == [("error", "keyword"), ("message.text", "text")]


def test_a_dotted_name_in_the_template_compares_as_the_object_elasticsearch_makes_of_it():
    index = {"properties": {"log": {"properties": {"level": {"type": "keyword"}, "origin": {"properties": {
        "function": {"type": "keyword"}}}}}}}
    template = {"properties": {"log.level": {"type": "keyword"}, "log.origin.function": {"type": "keyword"},
                               "log": {"properties": {"origin.file.line": {"type": "long"}}}}}

    additions = mapping_additions(index, template)

    assert additions.properties == {"log": {"properties": {"origin": {"properties": {"file": {"properties": {
        "line": {"type": "long"}}}}}}}}
    assert additions.added == ["log.origin.file.line"]


# -- the fake Elasticsearch's indices ----------------------------------------------------------------------


def test_fake_elasticsearch_answers_index_calls_like_elasticsearch(stack, passwords):
    def call(method: str, path: str, body: object = None) -> tuple[int, Any]:
        """The answer, or for an error the type and reason Elasticsearch gives."""
        status, answer = json_call(f"{stack.elasticsearch_url}{path}", method, passwords["ELASTIC_PASSWORD"], body)
        return (status, answer) if status < 400 else (status, f"{answer['error']['type']}: {answer['error']['reason']}")

    assert call("PUT", "/_index_template/old", PREVIOUS_TEMPLATE) == (200, {"acknowledged": True})
    assert call("GET", "/django-logs-*/_mapping") == (200, {})
    assert call("GET", "/django-logs-x/_mapping") == (404, "index_not_found_exception: no such index [django-logs-x]")
    assert call("GET", "/django-logs-x/_mapping?ignore_unavailable=true") == (200, {})
    stack.create_index(TODAY)
    status, answer = call("GET", "/django-logs-*/_mapping")
    assert status == 200 and answer[TODAY]["mappings"]["dynamic"] == "false"

    refused = {"properties": {"url": {"properties": {"path": {"type": "wildcard"}}}}}
    assert call("PUT", f"/{TODAY}/_mapping", refused) == (
        400, "illegal_argument_exception: mapper [url.path] cannot be changed from type [keyword] to [wildcard]")
    assert call("PUT", f"/{TODAY}/_mapping", {"properties": {"url": {"type": "keyword"}}}) == (
        400, "illegal_argument_exception: can't merge a non object mapping [url] with an object mapping")
    assert call("GET", f"/{TODAY}/_mapping")[1] == answer  # a refused update changes nothing
    grown = {"properties": {"user": {"properties": {"name": {"type": "keyword", "ignore_above": 1024,
                                                             "fields": {"text": {"type": "match_only_text"}}}}}}}
    assert call("PUT", f"/{TODAY}/_mapping", grown) == (200, {"acknowledged": True})
    assert call("GET", f"/{TODAY}/_mapping")[1][TODAY]["mappings"]["properties"]["user"]["properties"]["name"] == \
        grown["properties"]["user"]["properties"]["name"]
    # ignore_above is updateable: left out, it reverts to its default (why setup resends a field whole).
    assert call("PUT", f"/{TODAY}/_mapping", {"properties": {"http": {"properties": {"version": {"type": "keyword"}}}}}) == (
        200, {"acknowledged": True})
    assert call("GET", f"/{TODAY}/_mapping")[1][TODAY]["mappings"]["properties"]["http"]["properties"]["version"] == {
        "type": "keyword"}

    status, answer = call("PUT", f"/{TODAY}/_settings", {"index": {"number_of_shards": 2}})
    assert status == 400 and answer.startswith(
        "illegal_argument_exception: Can't update non dynamic settings [[index.number_of_shards]] for open indices "
        f"[[{TODAY}/")
    assert call("PUT", f"/{TODAY}/_settings", {"index.final_pipeline": "django-logs"}) == (200, {"acknowledged": True})
    assert call("GET", f"/{TODAY}/_settings?flat_settings=true")[1][TODAY]["settings"]["index.final_pipeline"] == "django-logs"
    assert call("GET", f"/{TODAY}/_settings")[1][TODAY]["settings"]["index"]["final_pipeline"] == "django-logs"
    assert call("PUT", "/django-logs-x/_settings", {"index.final_pipeline": "p"}) == (
        404, "index_not_found_exception: no such index [django-logs-x]")
