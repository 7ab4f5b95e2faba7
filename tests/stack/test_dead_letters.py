"""The dead_letters pipeline (logstash/pipeline/dead_letters.conf): the django pipeline's dead letter queue
read back and indexed as small documents the parse-failure rule counts.

An event the django pipeline really makes (its model, stack_models/logstash_pipeline.py) gets a field the
index template's mapping refuses (stack_models/es_fields.py, rejection); the dead_letter_queue input's
event of it (stack_models/logstash_dead_letters.py) then goes through the dead_letters pipeline's own rules.
"""

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from stack_models.alert_rules import RuleAlert, firing_alerts
from stack_models.es_fields import rejection, source_values
from stack_models.grok import PYGROK_PATTERNS_DIR, load_patterns, plain_ruby_regex
from stack_models.logstash_config import parse_config
from stack_models.logstash_config_tree import Plugin
from stack_models.logstash_dead_letters import dead_letter_event, dead_letter_path, reads_from
from stack_models.logstash_pipeline import Pipeline
from stack_models.logstash_settings import read_pipelines
from tests.support.config_files import flat_yaml
from tests.support.ecs_fields import ECS_VERSION
from tests.support.engines import require_engine
from tests.support.paths import INDEX_TEMPLATE_PATH, LOGSTASH_DIR, PIPELINE_PATH, REPO_ROOT

DEAD_LETTERS_PATH = LOGSTASH_DIR / "pipeline" / "dead_letters.conf"
CONTAINER_PIPELINE_DIR = "/usr/share/logstash/pipeline"
ENVIRONMENT = {"TIME_ZONE": "UTC", "LOGSTASH_WRITER_PASSWORD": "not-used-offline"}
MAPPINGS = json.loads(INDEX_TEMPLATE_PATH.read_text())["template"]["mappings"]
LOG_FILE = Path("/var/log/django/django_debug.log")
LINES = "INFO 2026-12-07 10:00:00,000 views hello world\nthis line was not written by the app\n"
# Values the template's mapping refuses (dynamic: false, so only mapped fields can be refused).
REFUSED = {
    "a string where user is an object": (("user",), "mallory"),
    "an object for message": (("message",), {"text": "hello", "level": 3}),
    "a string where error is an object": (("error",), "boom"),
    "an object for a keyword": (("event", "dataset"), {"name": "django.app"}),
    "an object for a long": (("http", "response", "status_code"), {"code": 500}),
}


@pytest.fixture(scope="module")
def django_events():
    """The django pipeline's events and documents for an app line and an unparsed one."""
    main = Pipeline.offline("UTC")
    events = main.read(LOG_FILE, LINES)
    return main, [(event, main.output(main.filter(event))) for event in events]


@pytest.fixture(scope="module")
def dead_letters():
    return Pipeline(load_patterns(PYGROK_PATTERNS_DIR), ENVIRONMENT, path=DEAD_LETTERS_PATH)


def refused_and_dead(main, event, field, value):
    """``event`` with ``value`` in ``field``, the document Elasticsearch refuses, and its dead letter."""
    broken = type(event)(copy.deepcopy(dict(event)))
    broken.set_field(field, value)
    refused = main.output(broken)
    action = ["create", {"_id": refused.document_id, "_index": refused.index}, refused.source]
    response = {"create": {"status": 400, "error": {"type": "document_parsing_exception",
                                                    "reason": rejection(MAPPINGS, refused.source)}}}
    return refused, dead_letter_event(broken, 400, response, action, "elasticsearch")


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_event_comes_back_as_a_document_the_mapping_takes(django_events, dead_letters, case):
    main, events = django_events
    field, value = REFUSED[case]
    for event, _ in events:
        refused, dead = refused_and_dead(main, event, field, value)
        assert rejection(MAPPINGS, refused.source), case  # the failure the queue holds

        document = dead_letters.output(dead_letters.filter(dead))

        assert rejection(MAPPINGS, document.source) is None
        assert set(source_values(document.source)) == {
            "@timestamp", "message", "event.dataset", "log.file.path", "error.message", "tags", "ecs.version",
            "event.module", "event.kind"}
        assert document.source["ecs"] == {"version": ECS_VERSION}
        assert document.source["event"]["kind"] == "pipeline_error"
        assert document.source["tags"] == ["_dead_letter"]
        assert document.source["error"]["message"].startswith("Could not index event to Elasticsearch. status: 400")
        # Its text kept as text, its origin, its time; the refused event's index and id, created once.
        expected_message = json.dumps(value, separators=(",", ":")) if field == ("message",) else event["message"]
        assert document.source["message"] == expected_message
        assert document.source["log"]["file"]["path"] == str(LOG_FILE)
        assert document.source["@timestamp"] == event["@timestamp"]
        assert (document.index, document.document_id, document.action) == (refused.index, refused.document_id,
                                                                          "create")


def test_every_field_the_django_pipeline_sets_is_dropped_but_the_time(django_events, dead_letters):
    """Whatever field a future change adds, prune drops it: only rebuilt fields reach Elasticsearch."""
    main, events = django_events
    event, _ = events[0]
    _, dead = refused_and_dead(main, event, ("a_new_field",), {"deep": ["x"]})
    dead.set_field(("tags",), ["multiline", "_grokparsefailure"])
    document = dead_letters.output(dead_letters.filter(dead))
    assert set(document.source) == {"@timestamp", "message", "event", "log", "error", "tags", "ecs"}
    assert document.source["event"] == {"dataset": "django.app", "module": "django", "kind": "pipeline_error"}


def test_events_whose_condition_failed_have_no_id_and_each_gets_its_own(django_events, dead_letters):
    """logstash-core AbstractPipelineExt.java, LogErrorEvaluationListener: an event whose `if` threw is written to
    the queue as it was, before the django pipeline's fingerprint gave it a document id."""
    _, events = django_events
    event, _ = events[0]
    documents = []
    for _ in range(2):  # the same event twice: still two documents
        dead = type(event)(copy.deepcopy(dict(event)))
        dead["@metadata"] = {"dead_letter_queue": {"plugin_type": "if-statement", "plugin_id": "if-statement",
                                                   "reason": "condition evaluation error, Unexpected conditional"}}
        documents.append(dead_letters.output(dead_letters.filter(dead)))
    ids = [document.document_id for document in documents]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", document_id) for document_id in ids) and ids[0] != ids[1], ids
    assert documents[0].source["error"]["message"] == "condition evaluation error, Unexpected conditional"


def test_the_parse_failure_rule_counts_dead_letters(django_events, dead_letters):
    main, events = django_events
    _, dead = refused_and_dead(main, events[0][0], ("user",), "mallory")
    document = dead_letters.output(dead_letters.filter(dead))
    now = document.source["@timestamp"] + dt.timedelta(minutes=1)
    source = {**document.source, "@timestamp": document.source["@timestamp"].isoformat()}
    rule = json.loads((REPO_ROOT / "kibana" / "rules" / "parse-failures.json").read_text())["body"]["params"]
    rule = {**rule, "timeWindowSize": 15}
    assert firing_alerts(rule, [{"_index": document.index, "_source": source}], MAPPINGS, now) == [
        RuleAlert("query matched", 1)]


def test_it_reads_the_django_pipelines_queue_and_has_none_of_its_own():
    pipelines = read_pipelines()
    settings = flat_yaml(LOGSTASH_DIR / "config" / "logstash.yml")
    dead_letters = pipelines["dead_letters"]
    assert settings["dead_letter_queue.enable"] == "true" and "path.dead_letter_queue" not in settings
    assert dead_letters["dead_letter_queue.enable"] is False  # a document it cannot index is not queued again
    assert "dead_letter_queue.enable" not in pipelines["django"]
    assert dead_letters["path.config"] == f"{CONTAINER_PIPELINE_DIR}/{DEAD_LETTERS_PATH.name}"
    [dlq_input] = parse_config(DEAD_LETTERS_PATH.read_text())["input"]
    assert reads_from(dlq_input) == dead_letter_path(settings["path.data"], "django")
    # Read segments are deleted, so the queue (drop_newer) never fills and drops new dead events.
    assert dlq_input.get("clean_consumed") is True and dlq_input.get("commit_offsets") is True
    assert dlq_input.get("sincedb_path").startswith(settings["path.data"] + "/")


def test_its_output_is_the_django_pipelines_but_for_its_id():
    [django_output] = parse_config(PIPELINE_PATH.read_text())["output"]
    [dead_letters_output] = parse_config(DEAD_LETTERS_PATH.read_text())["output"]

    def without_id(plugin: Plugin) -> list:
        return [(key, value) for key, value in plugin.attributes if key != "id"]

    assert without_id(dead_letters_output) == without_id(django_output)
    assert dead_letters_output.get("id") != django_output.get("id")


def test_the_input_model_refuses_what_the_plugin_refuses():
    with pytest.raises(ValueError, match="clean_consumed requires commit_offsets"):
        reads_from(Plugin("dead_letter_queue", [("path", "/x"), ("clean_consumed", True), ("commit_offsets", False)]))
    with pytest.raises(NotImplementedError):
        reads_from(Plugin("dead_letter_queue", [("path", "/x"), ("start_timestamp", "2026-01-01T00:00:00")]))
    with pytest.raises(ValueError, match="does not write a 409"):
        dead_letter_event(Pipeline.offline("UTC").read(LOG_FILE, LINES)[0], 409, {}, [], "elasticsearch")


def test_the_prune_whitelist_means_the_same_on_joni(dead_letters):
    """prune matches field names with a plain Regexp.new (logstash-filter-prune prune.rb): the model's verdict,
    checked on Joni with no grok flags."""
    engine = require_engine()
    [prune] = [item for item in dead_letters.config["filter"] if isinstance(item, Plugin) and item.name == "prune"]
    for name in ("@timestamp", "@timestamp2", "x@timestamp", "message", "@version", "tags", "@timestamp\nx"):
        for pattern in prune.get("whitelist_names"):
            model = plain_ruby_regex(pattern).search(name) is not None
            engine.check_regex_match(pattern, name, model,
                                     lambda real, pattern=pattern, name=name: AssertionError((pattern, name, real)))


@pytest.mark.parametrize(("source", "refused"), [
    ({"user": "mallory"}, "object mapping for [user] tried to parse field [user] as object"),
    ({"user": ["mallory"]}, "object mapping for [user]"),
    ({"message": {"a": 1}}, "failed to parse field [message]"),
    ({"http": {"response": {"status_code": "x"}}}, None),  # ignore_malformed
    ({"user": {"name": "a", "nickname": {"deep": 1}}}, None),  # unmapped: _source only (dynamic: false)
    ({"error": {"code": {"any": "thing"}}}, None),
    ({"tags": ["a", "b"], "user": [{"name": "a"}, {"name": "b"}]}, None),
    ({"@timestamp": "not a date"}, "@timestamp"),
])
def test_the_mapping_refuses_what_elasticsearch_refuses(source, refused):
    found = rejection(MAPPINGS, source)
    assert (found is None) if refused is None else (refused in found), found
