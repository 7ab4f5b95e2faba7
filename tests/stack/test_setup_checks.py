"""Setup's checks before any call, run in-process: the settings, the asset loader and the comparison.

`python -m provision` exits 2 with these messages on stderr and makes no call
(tests/stack/test_setup.py runs the command for that).
"""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from provision.assets import load_assets
from provision.comparison import comparable_template, covers, fingerprint, flat_settings, with_fingerprint
from provision.errors import ConfigError
from provision.kibana_client import Kibana, KibanaUnreachable
from provision.settings import DETECTION_VARIABLES, load_settings
from tests.support.env_file import example_values
from tests.support.paths import REPO_ROOT
from tests.support.setup_assets import (
    ILM_POLICY,
    INDEX_TEMPLATE,
    RULE,
    SAVED_OBJECTS,
    SAVED_OBJECTS_FILE,
    edit_json,
    write_json,
)

PASSWORDS = {
    "ELASTIC_PASSWORD": "el-4f0c9a1e7b2d6c3a",
    "KIBANA_SYSTEM_PASSWORD": "ks-9d8e7f6a5b4c3d2e",
    "LOGSTASH_WRITER_PASSWORD": "lw-1a2b3c4d5e6f7a8b",
    "ALERTING_PASSWORD": "al-6e5d4c3b2a1f0e9d",
}
DETECTIONS = {"BRUTE_FORCE_FAILURES": 10, "BRUTE_FORCE_WINDOW_MINUTES": 5}


def refusal_of_settings(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return str(caught.value)


def refusal_of_assets(root: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_assets(root, 14, DETECTIONS, index_replicas=0)
    return str(caught.value)


# -- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variable", ["ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "LOGSTASH_WRITER_PASSWORD", "ALERTING_PASSWORD"]
)
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is empty"),
        ("changeme", "is a well-known default password"),
        ("password", "is a well-known default password"),
        ("elastic", "is a well-known default password"),
        ("ChangeMe", "is a well-known default password"),
        ("Short-pw-11", "is shorter than 12 characters"),
    ],
)
def test_weak_passwords_are_refused(variable, value, problem):
    message = refusal_of_settings({**PASSWORDS, variable: value})

    assert f"{variable} {problem}" in message
    if value and value != "password":  # that word is in every such message anyway
        assert value not in message


@pytest.mark.parametrize("variable", ["LOGSTASH_WRITER_PASSWORD", "ALERTING_PASSWORD"])
def test_a_missing_password_variable_is_refused(variable):
    without = {name: value for name, value in PASSWORDS.items() if name != variable}

    assert f"{variable} is empty" in refusal_of_settings(without)


def test_a_reused_password_is_refused():
    reused = {**PASSWORDS, "LOGSTASH_WRITER_PASSWORD": PASSWORDS["KIBANA_SYSTEM_PASSWORD"]}

    assert "KIBANA_SYSTEM_PASSWORD is the same as LOGSTASH_WRITER_PASSWORD" in refusal_of_settings(reused)


def test_the_alerting_password_must_differ_from_elastics():
    reused = {**PASSWORDS, "ALERTING_PASSWORD": PASSWORDS["ELASTIC_PASSWORD"]}

    assert "ELASTIC_PASSWORD is the same as ALERTING_PASSWORD" in refusal_of_settings(reused)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LOG_RETENTION_DAYS", "0", "LOG_RETENTION_DAYS='0' must be a whole number of days from 1 to 3650"),
        ("LOG_RETENTION_DAYS", "3651", "LOG_RETENTION_DAYS='3651' must be"),
        ("LOG_RETENTION_DAYS", "2w", "LOG_RETENTION_DAYS='2w' must be"),
        ("LOG_RETENTION_DAYS", "", "LOG_RETENTION_DAYS='' must be"),
        ("ELASTICSEARCH_URL", "elasticsearch:9200", "ELASTICSEARCH_URL='elasticsearch:9200' is not a valid URL"),
        ("KIBANA_URL", "http://elastic:Secret-in-URL@kibana:5601", "KIBANA_URL must not contain credentials"),
        ("SETUP_TIMEOUT_SECONDS", "soon", "SETUP_TIMEOUT_SECONDS='soon' must be a number of seconds"),
    ],
)
def test_invalid_settings_are_refused(name, value, expected):
    message = refusal_of_settings({**PASSWORDS, name: value})

    assert expected in message
    assert "Secret-in-URL" not in message


def test_the_defaults_are_the_compose_services():
    settings = load_settings(PASSWORDS)

    assert (settings.elasticsearch_urls, settings.kibana_url) == (("http://elasticsearch:9200",), "http://kibana:5601")
    assert (settings.tls_ca_file, settings.index_replicas) == (None, 0)
    assert (settings.retention_days, settings.assets_dir) == (14, Path("/assets"))
    assert (settings.timeout_seconds, settings.request_timeout_seconds, settings.retry_interval_seconds) == (300, 30, 2)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BRUTE_FORCE_FAILURES", "0", "BRUTE_FORCE_FAILURES='0' must be a whole number from 1 to 100000 (default 10)"),
        ("BRUTE_FORCE_WINDOW_MINUTES", "1441", "BRUTE_FORCE_WINDOW_MINUTES='1441' must be a whole number from 1 to 1440"),
        ("CREDENTIAL_STUFFING_USERS", "five", "CREDENTIAL_STUFFING_USERS='five' must be"),
        ("SUSPICIOUS_REQUESTS_THRESHOLD", "-1", "SUSPICIOUS_REQUESTS_THRESHOLD='-1' must be"),
        ("ERROR_BURST_THRESHOLD", "2.5", "ERROR_BURST_THRESHOLD='2.5' must be"),
        ("PARSE_FAILURES_WINDOW_MINUTES", "", "PARSE_FAILURES_WINDOW_MINUTES='' must be"),
        ("ERROR_BURST_WINDOW_MINUTES", "\u0665", "ERROR_BURST_WINDOW_MINUTES='\u0665' must be"),  # a non-ASCII digit
    ],
)
def test_invalid_detection_settings_are_refused_naming_the_variable(name, value, expected):
    assert expected in refusal_of_settings({**PASSWORDS, name: value})


def test_detection_settings_default_to_the_documented_values_and_take_the_environment():
    documented = {name: int(example_values()[name]) for name in DETECTION_VARIABLES}

    assert load_settings(PASSWORDS).detections == documented
    assert load_settings({**PASSWORDS, "BRUTE_FORCE_FAILURES": "3"}).detections == {**documented, "BRUTE_FORCE_FAILURES": 3}


def test_every_rule_placeholder_is_a_detection_setting_and_every_setting_is_used():
    text = "".join(path.read_text() for path in sorted((REPO_ROOT / "kibana" / "rules").glob("*.json")))
    named = set(re.findall(r"\$\{(\w+)\}", text))

    assert named == set(DETECTION_VARIABLES)


# -- assets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda root: (root / "elasticsearch" / "ilm_policies" / "django-logs.json").unlink(),
         "ilm_policies/django-logs.json is missing"),
        (lambda root: (root / "elasticsearch" / "roles" / "logstash_writer.json").unlink(), "lacks logstash_writer.json"),
        (
            lambda root: (root / "elasticsearch" / "index_templates" / "django-logs.json").write_text("{\n  oops"),
            "index_templates/django-logs.json is not valid JSON",
        ),
        (
            lambda root: edit_json(
                root / "elasticsearch" / "index_templates" / "django-logs.json",
                lambda t: t["template"]["settings"].pop("index.lifecycle.name"),
            ),
            "must set index.lifecycle.name to 'django-logs'",
        ),
        (
            lambda root: edit_json(
                root / "elasticsearch" / "ilm_policies" / "django-logs.json", lambda p: p["policy"]["phases"].pop("delete")
            ),
            "has no policy.phases.delete phase",
        ),
        (
            lambda root: edit_json(
                root / "kibana" / "rules" / "error-burst.json", lambda r: r["body"].update(ruleTypeId=".es-query")
            ),
            "error-burst.json: ruleTypeId not allowed in a rule body",
        ),
        (lambda root: (root / SAVED_OBJECTS_FILE).write_text(""), "saved_objects.ndjson holds no saved objects"),
        (lambda root: (root / "elasticsearch" / "index_templates" / "django-logs.json").unlink(),
         "index_templates holds no index template"),
        (lambda root: (root / "kibana" / "saved_objects" / "more.json").write_text("{}"),
         "more.json: Kibana imports only files whose name ends in .ndjson"),
        (lambda root: (root / "kibana" / "saved_objects" / "copy.ndjson").write_text(json.dumps(SAVED_OBJECTS[0]) + "\n"),
         "saved_objects.ndjson line 1 repeats index-pattern/django-logs"),  # the later file by name repeats it
    ],
)
def test_bad_assets_are_refused(assets, change, message):
    change(assets)

    assert message in refusal_of_assets(assets)


def test_each_asset_is_named_after_its_file(assets):
    write_json(assets / "elasticsearch" / "roles" / "auditor.json", {"cluster": ["monitor"]})
    write_json(assets / "elasticsearch" / "ilm_policies" / "audit-logs.json", ILM_POLICY)
    audit = json.loads(json.dumps(INDEX_TEMPLATE))
    audit["index_patterns"] = ["audit-logs-*"]
    audit["template"]["settings"]["index.lifecycle.name"] = "audit-logs"
    write_json(assets / "elasticsearch" / "index_templates" / "audit-logs.json", audit)

    loaded = load_assets(assets, 21, DETECTIONS, index_replicas=0)

    assert [role.name for role in loaded.roles] == ["auditor", "django_alerting", "django_responder", "logstash_writer"]
    assert [policy.name for policy in loaded.ilm_policies] == ["audit-logs", "django-logs"]
    assert [template.name for template in loaded.index_templates] == ["audit-logs", "django-logs"]
    assert loaded.index_templates[0].body["index_patterns"] == ["audit-logs-*"]
    assert [policy.body["policy"]["phases"]["delete"]["min_age"] for policy in loaded.ilm_policies] == ["21d", "21d"]
    assert [connector.name for connector in loaded.connectors] == ["django-logs-alert-history", "django-logs-server-log"]
    assert [rule.name for rule in loaded.rules] == ["django-logs-error-burst"]


def test_a_template_naming_a_policy_without_a_file_is_refused(assets):
    edit_json(assets / "elasticsearch" / "index_templates" / "django-logs.json",
              lambda t: t["template"]["settings"].update({"index.lifecycle.name": "elsewhere"}))

    message = refusal_of_assets(assets)

    assert "django-logs.json sets index.lifecycle.name to 'elsewhere'" in message
    assert "ilm_policies/elsewhere.json is missing" in message


def test_a_policy_no_template_names_may_lack_a_delete_phase(assets):
    write_json(assets / "elasticsearch" / "ilm_policies" / "keep.json", {"policy": {"phases": {"hot": {"actions": {}}}}})

    keep = [policy for policy in load_assets(assets, 14, DETECTIONS, index_replicas=0).ilm_policies if policy.name == "keep"]

    assert [policy.body for policy in keep] == [{"policy": {"phases": {"hot": {"actions": {}}}}}]


def test_saved_objects_of_several_files_are_one_list_in_file_order(assets):
    extra = {"type": "index-pattern", "id": "audit-logs", "attributes": {"title": "audit-logs-*"}, "references": []}
    (assets / "kibana" / "saved_objects" / "audit.ndjson").write_text(json.dumps(extra) + "\n")

    saved = load_assets(assets, 14, DETECTIONS, index_replicas=0).saved_objects

    assert [path.name for path in saved.paths] == ["audit.ndjson", "saved_objects.ndjson"]
    assert [(item["type"], item["id"]) for item in saved.objects] == [("index-pattern", "audit-logs")] + [
        (item["type"], item["id"]) for item in SAVED_OBJECTS
    ]


def rule_with(params: dict, message: str = "fired") -> dict:
    return {**RULE, "body": {**RULE["body"], "params": {**RULE["body"]["params"], **params},
                             "actions": [{**RULE["body"]["actions"][0], "params": {"level": "warn", "message": message}}]}}


def test_rule_placeholders_take_the_detection_values(assets):
    write_json(assets / "kibana" / "rules" / "error-burst.json", rule_with(
        {"threshold": ["${BRUTE_FORCE_FAILURES}"], "timeWindowSize": "${BRUTE_FORCE_WINDOW_MINUTES}"},
        "more than ${BRUTE_FORCE_FAILURES} in ${BRUTE_FORCE_WINDOW_MINUTES} min, not {{context.value}} $ {x}",
    ))

    [rule] = load_assets(assets, 14, {"BRUTE_FORCE_FAILURES": 12, "BRUTE_FORCE_WINDOW_MINUTES": 3}, index_replicas=0).rules

    assert (rule.body["params"]["threshold"], rule.body["params"]["timeWindowSize"]) == ([12], 3)
    assert rule.body["actions"][0]["params"]["message"] == "more than 12 in 3 min, not {{context.value}} $ {x}"
    assert json.loads((assets / "kibana" / "rules" / "error-burst.json").read_text())["body"]["params"]["threshold"] == [
        "${BRUTE_FORCE_FAILURES}"
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": ["${BRUTE_FORCE_FAILURE}"]},
         "error-burst.json: ${BRUTE_FORCE_FAILURE} names no detection setting (known: BRUTE_FORCE_FAILURES, "
         "BRUTE_FORCE_WINDOW_MINUTES)"),
        ({"threshold": ["${brute_force_failures}"]}, "'${brute_force_failures}' is not a placeholder"),
        ({"size": "at most ${BRUTE_FORCE_FAILURES"}, "'${BRUTE_FORCE_FAILURES' is not a placeholder"),
        ({"${BRUTE_FORCE_FAILURES}": 1}, "the key '${BRUTE_FORCE_FAILURES}' holds a placeholder"),
    ],
)
def test_a_bad_placeholder_is_refused(assets, params, message):
    write_json(assets / "kibana" / "rules" / "error-burst.json", rule_with(params))

    assert message in refusal_of_assets(assets)


def test_the_repository_assets_load():
    loaded = load_assets(REPO_ROOT, 14, load_settings(PASSWORDS).detections, index_replicas=0)

    assert {role.name for role in loaded.roles} == {"logstash_writer", "django_alerting", "django_responder"}
    assert [policy.name for policy in loaded.ilm_policies] == ["django-alerts", "django-logs"]
    assert [template.name for template in loaded.index_templates] == ["django-alerts", "django-logs"]
    assert [pipeline.name for pipeline in loaded.ingest_pipelines] == ["django-logs"]
    assert [path.name for path in loaded.saved_objects.paths] == ["django-logs.ndjson"]
    assert [(setting.name, setting.add) for setting in loaded.advanced_settings] == [
        ("securitySolution:defaultIndex", ["django-logs-*"])
    ]


# -- comparison ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [
        ({"a": 1, "server_default": 2}, {"a": 1}, True),  # extra keys on the server are fine
        ({"a": 1}, {"a": 1, "b": None}, True),  # a desired null is met by an absent key
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": [1, 2, 3]}, {"a": [1, 2]}, False),  # lists match item by item, length too
        ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),
        ({"a": 1}, {"a": True}, False),  # True == 1 in Python, not in JSON
        ({"a": False}, {"a": 0}, False),
        ({"a": "1"}, {"a": 1}, False),
        ("text", {"a": 1}, False),
    ],
)
def test_covers(current, desired, expected):
    assert covers(current, desired) is expected


def test_flat_settings_is_elasticsearchs_view_dotted_under_index_with_strings():
    settings = {"number_of_shards": 1, "index": {"lifecycle": {"name": "p", "parse_origination_date": True}},
                "index.codec": "best_compression", "routing_path": ["a", 2], "unset": None}

    assert flat_settings(settings) == {
        "index.number_of_shards": "1", "index.lifecycle.name": "p", "index.lifecycle.parse_origination_date": "true",
        "index.codec": "best_compression", "index.routing_path": ["a", "2"], "index.unset": None,
    }


def test_comparable_template_flattens_only_the_settings_and_leaves_the_asset_alone():
    template = {"index_patterns": ["x-*"], "template": {"settings": {"number_of_shards": 1}, "mappings": {"dynamic": False}}}

    assert comparable_template(template) == {
        "index_patterns": ["x-*"], "template": {"settings": {"index.number_of_shards": "1"}, "mappings": {"dynamic": False}}}
    assert template["template"]["settings"] == {"number_of_shards": 1}


def test_the_fingerprint_ignores_key_order_and_is_added_beside_existing_meta():
    body = {"b": 1, "a": {"y": 2, "x": 1}, "_meta": {"description": "d"}}
    marked = with_fingerprint(body, "_meta")

    assert fingerprint(body) == fingerprint({"_meta": {"description": "d"}, "a": {"x": 1, "y": 2}, "b": 1})
    assert fingerprint(body) != fingerprint({**body, "b": 2})
    assert marked["_meta"] == {"description": "d", "setup_fingerprint": fingerprint(body)}
    assert body["_meta"] == {"description": "d"}


# --- the Kibana client, against a real local server ------------------------------------------


class _Answers(BaseHTTPRequestHandler):
    client_ports: list[int] = []

    def do_GET(self):
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/kibana/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/hang-up":
            self.close_connection = True  # closes without a status line
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        type(self).client_ports.append(self.client_address[1])

    def log_message(self, *args):
        pass


@contextmanager
def local_kibana():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = load_settings({**PASSWORDS, "KIBANA_URL": f"http://127.0.0.1:{server.server_port}"})
        yield Kibana(settings)
    finally:
        server.shutdown()
        server.server_close()


def test_the_kibana_client_refuses_a_redirect_naming_where_it_points():
    with local_kibana() as kibana, pytest.raises(ConfigError) as refused:
        kibana.request("GET", "/moved")
    assert "answered GET /moved with HTTP 302, a redirect to '/kibana/moved'" in str(refused.value)


def test_a_dropped_connection_is_reported_in_the_sockets_own_words():
    with local_kibana() as kibana, pytest.raises(KibanaUnreachable) as dropped:
        kibana.request("GET", "/hang-up")
    assert str(dropped.value) == "cannot connect (Remote end closed connection without response)"


def test_each_kibana_call_opens_a_fresh_connection():
    _Answers.protocol_version = "HTTP/1.1"  # a server that keeps connections open
    _Answers.client_ports.clear()
    try:
        with local_kibana() as kibana:
            assert kibana.request("GET", "/status") == (200, {})
            assert kibana.request("GET", "/status") == (200, {})
    finally:
        _Answers.protocol_version = "HTTP/1.0"
    assert len(set(_Answers.client_ports)) == 2
