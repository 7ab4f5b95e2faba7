"""Setup's ingest pipelines (elasticsearch/ingest_pipelines/<id>.json, put before the index templates) against
the fake Elasticsearch, and the repository's django-logs final pipeline applied to documents as Elasticsearch
would (stack_models/es_ingest.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from provision.assets import load_assets
from provision.errors import ConfigError
from stack_models.es_fields import parse_date
from stack_models.es_ingest import NotModelled, apply_pipeline, java_utc_string
from tests.support.paths import REPO_ROOT
from tests.support.setup_assets import edit_json, write_json
from tests.support.setup_run import json_call, run_setup, step_lines, writes

REPOSITORY_PIPELINE = json.loads((REPO_ROOT / "elasticsearch" / "ingest_pipelines" / "django-logs.json").read_text())
STEP = "ingest pipeline django-logs"
PIPELINE_WRITE = ("PUT", "/_ingest/pipeline/django-logs")


@pytest.fixture
def pipeline_assets(assets):
    """The sample assets with the repository's pipeline, named by the template as its final pipeline."""
    write_json(assets / "elasticsearch" / "ingest_pipelines" / "django-logs.json", REPOSITORY_PIPELINE)
    edit_json(assets / "elasticsearch" / "index_templates" / "django-logs.json",
              lambda t: t["template"]["settings"].update({"index.final_pipeline": "django-logs"}))
    return assets


def test_the_pipeline_is_put_before_the_template_and_a_second_run_writes_nothing(stack, pipeline_assets, passwords):
    first = run_setup(stack, pipeline_assets, passwords)

    assert first.returncode == 0, first.stdout + first.stderr
    assert step_lines(first.stdout)[STEP] == "created"
    done = writes(stack.recorded())
    assert done.index(PIPELINE_WRITE) < done.index(("PUT", "/_index_template/django-logs"))
    stored = stack.pipelines["django-logs"]
    assert stored["processors"] == REPOSITORY_PIPELINE["processors"]
    assert stored["_meta"]["managed_by"] == "django-logs setup"
    assert len(stored["_meta"]["setup_fingerprint"]) == 64
    assert stack.templates["django-logs"]["template"]["settings"]["index"]["final_pipeline"] == "django-logs"
    already = len(stack.recorded())

    second = run_setup(stack, pipeline_assets, passwords)

    assert second.returncode == 0, second.stdout + second.stderr
    assert step_lines(second.stdout)[STEP] == "unchanged"
    assert writes(stack.recorded()[already:]) == []


def test_an_edited_or_shortened_pipeline_file_is_put_again(stack, pipeline_assets, passwords):
    assert run_setup(stack, pipeline_assets, passwords).returncode == 0
    path = pipeline_assets / "elasticsearch" / "ingest_pipelines" / "django-logs.json"
    edit_json(path, lambda p: p.pop("description"))  # GET still has it; the fingerprint notices

    result = run_setup(stack, pipeline_assets, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert step_lines(result.stdout)[STEP] == "updated"
    assert "description" not in stack.pipelines["django-logs"]
    assert writes(stack.recorded()).count(PIPELINE_WRITE) == 2


def test_a_pipeline_changed_in_elasticsearch_is_put_back(stack, pipeline_assets, passwords):
    assert run_setup(stack, pipeline_assets, passwords).returncode == 0
    stack.pipelines["django-logs"]["processors"][0]["set"]["field"] = "event.created"

    result = run_setup(stack, pipeline_assets, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert step_lines(result.stdout)[STEP] == "updated"
    assert stack.pipelines["django-logs"]["processors"][0]["set"]["field"] == "event.ingested"


def test_a_template_naming_a_pipeline_without_a_file_stops_with_exit_code_2_before_any_call(stack, assets, passwords):
    edit_json(assets / "elasticsearch" / "index_templates" / "django-logs.json",
              lambda t: t["template"]["settings"].update({"index.final_pipeline": "django-logs"}))

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 2
    assert "django-logs.json sets index.final_pipeline to 'django-logs', but " in result.stderr
    assert "ingest_pipelines/django-logs.json is missing." in result.stderr
    assert stack.recorded() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(processor=[]), "processor not allowed in an ingest pipeline"),
        (lambda p: p.pop("processors"), "django-logs.json lacks processors"),
        (lambda p: p.update(processors=[]), "processors must be a non-empty list"),
    ],
)
def test_bad_pipeline_files_are_refused(pipeline_assets, change, message):
    edit_json(pipeline_assets / "elasticsearch" / "ingest_pipelines" / "django-logs.json", change)

    with pytest.raises(ConfigError) as caught:
        load_assets(pipeline_assets, 14, {}, index_replicas=0)

    assert message in str(caught.value)


def test_the_default_pipeline_setting_is_checked_too_and_none_names_no_pipeline(assets):
    template = assets / "elasticsearch" / "index_templates" / "django-logs.json"
    edit_json(template, lambda t: t["template"]["settings"].update({"index": {"default_pipeline": "_none"}}))
    assert load_assets(assets, 14, {}, index_replicas=0).ingest_pipelines == []

    edit_json(template, lambda t: t["template"]["settings"].update({"index": {"default_pipeline": "enrich"}}))
    with pytest.raises(ConfigError) as caught:
        load_assets(assets, 14, {}, index_replicas=0)

    assert "sets index.default_pipeline to 'enrich'" in str(caught.value)


def test_a_pipeline_elasticsearch_refuses_fails_naming_the_file(stack, pipeline_assets, passwords):
    path = pipeline_assets / "elasticsearch" / "ingest_pipelines" / "django-logs.json"
    edit_json(path, lambda p: p["processors"][0]["set"].update(target="event.ingested"))

    result = run_setup(stack, pipeline_assets, passwords)

    assert result.returncode == 1
    assert ("PUT _ingest/pipeline/django-logs failed: HTTP 400 parse_exception: processor [set] doesn't support "
            "one or more provided configuration parameters ['target']") in result.stderr
    assert f"Fix {path}." in result.stderr
    assert "django-logs" not in stack.pipelines


def test_fake_elasticsearch_answers_pipeline_calls_like_elasticsearch(stack, passwords):
    def call(method: str, body: object = None) -> tuple[int, dict]:
        return json_call(f"{stack.elasticsearch_url}/_ingest/pipeline/p", method, passwords["ELASTIC_PASSWORD"], body)

    assert call("GET") == (404, {})
    status, answer = call("PUT", {"processors": [{"set": {"field": "a", "value": 1}}], "versions": 2})
    assert (status, answer["error"]["reason"]) == (
        400, "pipeline [p] doesn't support one or more provided configuration parameters ['versions']")
    assert call("PUT", {"processors": [{"set": {"field": "a"}}]})[1]["error"]["reason"] == "[value] required property is missing"
    assert call("PUT", {"processors": [{"set": {"field": "a", "value": 1}}], "_meta": {"k": "v"}}) == (200, {"acknowledged": True})
    assert call("GET") == (200, {"p": {"processors": [{"set": {"field": "a", "value": 1}}], "_meta": {"k": "v"}}})


# -- the pipeline on documents, as Elasticsearch runs it -----------------------------------------------


def test_event_ingested_is_the_ingest_time_and_replaces_any_value_the_document_brings():
    source = {"message": "login", "event": {"created": "2026-12-08T02:48:05.000Z", "ingested": "1999-01-01T00:00:00Z"}}
    now = dt.datetime(2026, 12, 8, 2, 48, 6, 123000, tzinfo=dt.timezone.utc)

    document = apply_pipeline(REPOSITORY_PIPELINE, source, now)

    assert document == {"message": "login", "event": {"created": "2026-12-08T02:48:05.000Z",
                                                       "ingested": "2026-12-08T02:48:06.123Z"}}
    assert source["event"]["ingested"] == "1999-01-01T00:00:00Z"  # the input is left alone


def test_a_document_without_an_event_object_gets_one():
    now = dt.datetime(2026, 12, 8, 2, 48, 6, 500000, tzinfo=dt.timezone.utc)

    assert apply_pipeline(REPOSITORY_PIPELINE, {"message": "x"}, now) == {
        "message": "x", "event": {"ingested": "2026-12-08T02:48:06.500Z"}}


@pytest.mark.parametrize(
    ("moment", "rendered", "millis"),
    [
        # Java's ZonedDateTime.toString: no seconds at a whole minute, the fraction in groups of three digits.
        (dt.datetime(2026, 12, 8, 2, 48, tzinfo=dt.timezone.utc), "2026-12-08T02:48Z", 1796698080000),
        (dt.datetime(2026, 12, 8, 2, 48, 7, tzinfo=dt.timezone.utc), "2026-12-08T02:48:07Z", 1796698087000),
        (dt.datetime(2026, 12, 8, 2, 48, 7, 120000, tzinfo=dt.timezone.utc), "2026-12-08T02:48:07.120Z", 1796698087120),
        (dt.datetime(2026, 12, 8, 2, 48, 7, 123456, tzinfo=dt.timezone.utc), "2026-12-08T02:48:07.123456Z", 1796698087123),
    ],
)
def test_every_form_of_the_ingest_timestamp_is_a_date_the_mapping_indexes(moment, rendered, millis):
    assert java_utc_string(moment) == rendered
    assert parse_date(rendered) == millis  # strict_date_optional_time, kept to the millisecond


@pytest.mark.parametrize(
    "processor",
    [
        {"set": {"field": "event.ingested", "value": "{{{_ingest.on_failure_message}}}"}},
        {"set": {"field": "event.ingested", "copy_from": "_ingest.timestamp"}},
        {"set": {"field": "event.ingested", "value": "{{{_ingest.timestamp}}}", "if": "ctx.event != null"}},
        {"rename": {"field": "a", "target_field": "b"}},
    ],
)
def test_the_model_refuses_what_it_does_not_follow(processor):
    with pytest.raises(NotModelled):
        apply_pipeline({"processors": [processor]}, {}, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
