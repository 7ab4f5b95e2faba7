"""The setup one-shot (`python -m provision`, setup/provision/) run as a real process against a fake
Elasticsearch + Kibana: its exit codes, its output and the calls it makes.

The fake (tests/support/fake_elastic.py) keeps state and refuses request shapes the real APIs refuse,
so a passing run means the calls were made in the documented shapes and in a workable order.
"""

from __future__ import annotations

import ast
import json
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.support.elastic_api import RULE_UPDATE_KEYS
from tests.support.fake_elastic import FakeElasticStack
from tests.support.paths import REPO_ROOT, SETUP_DIR
from tests.support.setup_assets import (
    CONNECTORS,
    ILM_POLICY,
    INDEX_CONNECTOR_ID,
    INDEX_TEMPLATE,
    LOG_CONNECTOR_ID,
    RULE,
    RULE_ID,
    SAVED_OBJECTS,
    SAVED_OBJECTS_FILE,
    edit_json,
    write_json,
)
from tests.support.setup_run import (
    RUN_TIMEOUT_SECONDS,
    assert_no_password_printed,
    basic_auth,
    call,
    run_setup,
    setup_environment,
    step_lines,
    writes,
)

PROVISION_PACKAGE = SETUP_DIR / "provision"
IMPORT_RECORD = "django-logs-setup-kibana-import"
RULE_KEYS_RECORD = "django-logs-setup-rule-keys"


EXPECTED_WRITES = [
    ("PUT", "/_security/user/kibana_system/_password"),
    ("PUT", "/_security/role/django_alerting"),
    ("PUT", "/_security/role/django_responder"),
    ("PUT", "/_security/role/logstash_writer"),
    ("PUT", "/_security/user/logstash_writer"),
    ("PUT", "/_security/user/django_alerting"),
    ("PUT", "/_ilm/policy/django-logs"),
    ("PUT", "/_index_template/django-logs"),
    ("POST", "/api/saved_objects/_import"),
    ("PUT", f"/_component_template/{IMPORT_RECORD}"),
    ("POST", f"/api/actions/connector/{INDEX_CONNECTOR_ID}"),
    ("POST", f"/api/actions/connector/{LOG_CONNECTOR_ID}"),
    ("POST", f"/api/alerting/rule/{RULE_ID}"),
    ("PUT", f"/_component_template/{RULE_KEYS_RECORD}"),
]
ALL_STEPS = [
    "kibana_system password", "role django_alerting", "role django_responder", "role logstash_writer",
    "user logstash_writer", "user django_alerting",
    "ilm policy django-logs", "index template django-logs", "saved objects (3 from saved_objects.ndjson)",
    f"connector {INDEX_CONNECTOR_ID} (Django logs: alert history)", f"connector {LOG_CONNECTOR_ID} (Django logs: server log)",
    f"rule {RULE_ID} (Django error burst)",
]


def test_first_run_provisions_everything_in_dependency_order(stack, assets, passwords):
    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    requests = stack.recorded()
    assert writes(requests) == EXPECTED_WRITES
    first_kibana = next(index for index, request in enumerate(requests) if request.service == "kibana")
    assert requests[0].path == "/_cluster/health"
    assert requests[0].query["wait_for_status"] == ["yellow"] and requests[0].query["timeout"]
    assert all(request.service == "elasticsearch" for request in requests[:first_kibana])
    assert requests[first_kibana].path == "/api/status"
    assert step_lines(result.stdout) == {
        "kibana_system password": "updated", **{step: "created" for step in ALL_STEPS[1:]}
    }
    assert result.stdout.splitlines()[-1] == "setup: done"


def test_first_run_leaves_the_state_the_assets_describe(stack, assets, passwords):
    result = run_setup(stack, assets, passwords, LOG_RETENTION_DAYS="21")

    assert result.returncode == 0, result.stderr
    assert stack.password_works("kibana_system", passwords["KIBANA_SYSTEM_PASSWORD"])
    assert stack.password_works("logstash_writer", passwords["LOGSTASH_WRITER_PASSWORD"])
    assert stack.users["logstash_writer"]["roles"] == ["logstash_writer"]
    assert stack.roles["logstash_writer"]["cluster"] == ["monitor"]
    assert stack.roles["logstash_writer"]["indices"][0]["privileges"] == ["create_doc", "auto_configure"]
    assert stack.policies["django-logs"]["policy"]["phases"]["delete"]["min_age"] == "21d"
    assert stack.templates["django-logs"]["template"]["settings"]["index"]["lifecycle"] == {
        "name": "django-logs", "parse_origination_date": "true"
    }
    assert set(stack.saved_objects) == {(item["type"], item["id"]) for item in SAVED_OBJECTS}
    assert stack.connectors[INDEX_CONNECTOR_ID]["config"]["index"] == "django-logs-alerts"
    rule = stack.rules[RULE_ID]
    assert (rule["rule_type_id"], rule["consumer"], rule["params"]["threshold"]) == (".es-query", "alerts", [5])
    assert rule["actions"][0]["id"] == LOG_CONNECTOR_ID


def test_saved_objects_import_is_multipart_with_an_ndjson_file_and_xsrf(stack, assets, passwords):
    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    [upload] = [r for r in stack.recorded() if r.path == "/api/saved_objects/_import"]
    assert upload.query == {"overwrite": ["true"]}
    assert upload.headers["kbn-xsrf"]
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="saved_objects.ndjson"' in upload.body
    assert (assets / SAVED_OBJECTS_FILE).read_bytes() in upload.body


def test_an_added_template_policy_role_and_saved_objects_file_are_provisioned_without_code(stack, assets, passwords):
    write_json(assets / "elasticsearch" / "roles" / "audit_reader.json", {"indices": [{"names": ["audit-*"], "privileges": ["read"]}]})
    write_json(assets / "elasticsearch" / "ilm_policies" / "audit-logs.json", ILM_POLICY)
    audit = json.loads(json.dumps(INDEX_TEMPLATE))
    audit["index_patterns"] = ["audit-logs-*"]
    audit["template"]["settings"]["index.lifecycle.name"] = "audit-logs"
    write_json(assets / "elasticsearch" / "index_templates" / "audit-logs.json", audit)
    extra = {"type": "index-pattern", "id": "audit-logs", "attributes": {"title": "audit-logs-*", "name": "Audit logs"},
             "references": []}
    (assets / "kibana" / "saved_objects" / "audit.ndjson").write_text(json.dumps(extra))  # no final newline

    result = run_setup(stack, assets, passwords, LOG_RETENTION_DAYS="9")

    assert result.returncode == 0, result.stdout + result.stderr
    steps = step_lines(result.stdout)
    assert steps["role audit_reader"] == "created"
    assert steps["ilm policy audit-logs"] == "created"
    assert steps["index template audit-logs"] == "created"
    assert steps["saved objects (4 from audit.ndjson, saved_objects.ndjson)"] == "created"
    assert stack.policies["audit-logs"]["policy"]["phases"]["delete"]["min_age"] == "9d"
    assert stack.templates["audit-logs"]["index_patterns"] == ["audit-logs-*"]
    assert set(stack.saved_objects) == {("index-pattern", "audit-logs")} | {(item["type"], item["id"]) for item in SAVED_OBJECTS}
    [upload] = [r for r in stack.recorded() if r.path == "/api/saved_objects/_import"]
    assert b'name="file"; filename="saved_objects.ndjson"' in upload.body
    assert json.dumps(extra).encode() + b"\n" + (assets / SAVED_OBJECTS_FILE).read_bytes() in upload.body
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords, LOG_RETENTION_DAYS="9")

    assert second.returncode == 0, second.stdout + second.stderr
    assert set(step_lines(second.stdout).values()) == {"unchanged"}
    assert writes(stack.recorded()[already:]) == []


def test_second_run_reports_unchanged_and_sends_no_write(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    policy_version = stack.policies["django-logs"]["version"]
    rule_revision = stack.rules[RULE_ID]["revision"]
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert step_lines(second.stdout) == {step: "unchanged" for step in ALL_STEPS}
    assert writes(stack.recorded()[already:]) == []
    assert stack.policies["django-logs"]["version"] == policy_version
    assert stack.rules[RULE_ID]["revision"] == rule_revision


def test_edited_assets_are_updated_with_only_the_updatable_fields(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    # A removed key is still noticed although GET returns server defaults in its place.
    edit_json(assets / "elasticsearch" / "roles" / "logstash_writer.json", lambda role: role.pop("cluster"))
    edit_json(assets / "kibana" / "rules" / "error-burst.json", lambda rule: rule["body"]["params"].update(threshold=[9]))
    edit_json(assets / "kibana" / "connectors" / "alert-history.json", lambda c: c["body"].update(name="Alert history"))
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords, LOG_RETENTION_DAYS="30")

    assert second.returncode == 0, second.stderr
    outcomes = {
        **{step: "unchanged" for step in ALL_STEPS if not step.startswith(("connector", "rule"))},
        "role logstash_writer": "updated",
        "ilm policy django-logs": "updated",
        f"connector {INDEX_CONNECTOR_ID} (Alert history)": "updated",
        f"connector {LOG_CONNECTOR_ID} (Django logs: server log)": "unchanged",
        f"rule {RULE_ID} (Django error burst)": "updated",
    }
    assert step_lines(second.stdout) == outcomes
    new = stack.recorded()[already:]
    assert writes(new) == [
        ("PUT", "/_security/role/logstash_writer"),
        ("PUT", "/_ilm/policy/django-logs"),
        ("PUT", f"/api/actions/connector/{INDEX_CONNECTOR_ID}"),
        ("PUT", f"/api/alerting/rule/{RULE_ID}"),
    ]
    [rule_put] = [r for r in new if r.method == "PUT" and r.path.startswith("/api/alerting/")]
    assert set(rule_put.json()) <= RULE_UPDATE_KEYS
    assert rule_put.json()["params"]["threshold"] == [9]
    [connector_put] = [r for r in new if r.method == "PUT" and r.path.startswith("/api/actions/")]
    assert connector_put.json() == {"name": "Alert history", "config": {"index": "django-logs-alerts"}}
    assert stack.roles["logstash_writer"]["cluster"] == []
    assert stack.policies["django-logs"]["policy"]["phases"]["delete"]["min_age"] == "30d"
    assert stack.rules[RULE_ID]["params"]["threshold"] == [9]


def test_rotated_passwords_are_set_again(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    rotated = {**passwords, "KIBANA_SYSTEM_PASSWORD": "ks2-" + secrets.token_urlsafe(18),
               "LOGSTASH_WRITER_PASSWORD": "lw2-" + secrets.token_urlsafe(18)}
    already = len(stack.recorded())

    second = run_setup(stack, assets, rotated)

    assert second.returncode == 0, second.stderr
    outcomes = step_lines(second.stdout)
    assert (outcomes["kibana_system password"], outcomes["user logstash_writer"]) == ("updated", "updated")
    assert writes(stack.recorded()[already:]) == [
        ("PUT", "/_security/user/kibana_system/_password"), ("PUT", "/_security/user/logstash_writer"),
    ]
    assert stack.password_works("kibana_system", rotated["KIBANA_SYSTEM_PASSWORD"])
    assert stack.password_works("logstash_writer", rotated["LOGSTASH_WRITER_PASSWORD"])
    assert not stack.password_works("logstash_writer", passwords["LOGSTASH_WRITER_PASSWORD"])


@pytest.mark.parametrize("days", ["1", "3650"])
def test_retention_days_become_the_delete_phase_min_age(stack, assets, passwords, days):
    result = run_setup(stack, assets, passwords, LOG_RETENTION_DAYS=days)

    assert result.returncode == 0, result.stderr
    [put] = [r for r in stack.recorded() if r.method == "PUT" and r.path == "/_ilm/policy/django-logs"]
    sent = put.json()["policy"]
    assert sent["phases"]["delete"] == {"min_age": f"{days}d", "actions": {"delete": {}}}
    assert sent["phases"]["hot"] == ILM_POLICY["policy"]["phases"]["hot"]


def test_a_failed_object_exits_1_naming_it(stack, assets, passwords):
    stack.import_failures[("dashboard", "django-logs-overview")] = {
        "type": "unknown", "message": "Document contains at least one immense term", "statusCode": 400,
    }

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 1
    assert "successCount=2 of 3" in result.stderr
    assert "dashboard/django-logs-overview ('Django logs overview'): unknown (Document contains" in result.stderr
    assert not any(r.path.startswith(("/api/actions/", "/api/alerting/")) for r in stack.recorded())
    assert not any(r.path == f"/_component_template/{IMPORT_RECORD}" and r.is_write for r in stack.recorded())


def test_a_missing_reference_exits_1_and_nothing_is_imported(stack, assets, passwords):
    dangling = {"type": "search", "id": "django-logs-dangling", "attributes": {"title": "Dangling"},
                "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "gone"}]}
    with (assets / SAVED_OBJECTS_FILE).open("a") as ndjson:
        ndjson.write(json.dumps(dangling) + "\n")

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 1
    # Kibana counts the three good objects as successes, yet creates none of them.
    assert "success=False, successCount=3 of 4" in result.stderr
    assert "search/django-logs-dangling ('Dangling'): missing_references to index-pattern/gone" in result.stderr
    assert stack.saved_objects == {}


def test_an_object_stamped_newer_than_kibana_fails_the_import(stack, assets, passwords):
    objects = [{**item, "typeMigrationVersion": "10.14.0"} if item["type"] == "search" else item for item in SAVED_OBJECTS]
    (assets / SAVED_OBJECTS_FILE).write_text("".join(json.dumps(item) + "\n" for item in objects))

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 1
    assert "POST /api/saved_objects/_import?overwrite=true failed: HTTP 422: Document \"django-logs-errors\" belongs to a " \
           "more recent version of Kibana [10.14.0] when the last known version is [10.13.0]." in result.stderr
    assert stack.saved_objects == {}


def test_saved_searches_are_stored_migrated_and_then_left_alone(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    stored = stack.saved_objects[("search", "django-logs-errors")]
    assert set(stored["attributes"]) == {"title", "tabs"} and stored["typeMigrationVersion"] == "10.13.0"
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert step_lines(second.stdout)["saved objects (3 from saved_objects.ndjson)"] == "unchanged"
    assert writes(stack.recorded()[already:]) == []
    assert stack.saved_objects[("search", "django-logs-errors")] == stored


def test_a_changed_saved_objects_file_is_imported_again(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    path = assets / SAVED_OBJECTS_FILE
    objects = [json.loads(line) for line in path.read_text().splitlines()]
    objects[1]["attributes"]["title"] = "Django errors, newest first"
    path.write_text("".join(json.dumps(item) + "\n" for item in objects))
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)
    third = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert step_lines(second.stdout)["saved objects (3 from saved_objects.ndjson)"] == "updated"
    assert ("POST", "/api/saved_objects/_import") in writes(stack.recorded()[already:])
    assert stack.saved_objects[("search", "django-logs-errors")]["attributes"]["title"] == "Django errors, newest first"
    assert step_lines(third.stdout)["saved objects (3 from saved_objects.ndjson)"] == "unchanged"


def test_an_object_edited_in_kibana_is_imported_again(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    stack.saved_objects[("dashboard", "django-logs-overview")]["attributes"]["title"] = "Renamed in the UI"

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert step_lines(second.stdout)["saved objects (3 from saved_objects.ndjson)"] == "updated"
    assert stack.saved_objects[("dashboard", "django-logs-overview")]["attributes"]["title"] == "Django logs overview"


def test_waits_while_elasticsearch_answers_408(stack, assets, passwords):
    stack.health_not_ready_responses = 3

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    requests = stack.recorded()
    health = [r for r in requests if r.path == "/_cluster/health"]
    assert [r.status for r in health] == [408, 408, 408, 200]
    assert requests.index(health[-1]) < requests.index(next(r for r in requests if r.is_write))
    assert "waiting for elasticsearch: HTTP 408, cluster status red" in result.stdout


@pytest.mark.parametrize(
    ("starting", "waiting_line"),
    [
        # Core not available yet: the full answer says which service.
        ("kibana_unavailable_responses",
         "waiting for kibana: HTTP 503, core elasticsearch unavailable, savedObjects unavailable "
         "(Waiting for Elasticsearch)"),
        # Preboot: the redacted answer, whatever the credentials.
        ("kibana_preboot_responses", "waiting for kibana: HTTP 503, overall level unavailable\n"),
    ],
)
def test_waits_while_kibana_answers_503(stack, assets, passwords, starting, waiting_line):
    setattr(stack, starting, 2)

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    kibana = [r for r in stack.recorded() if r.service == "kibana"]
    assert [r.status for r in kibana[:3]] == [503, 503, 200]
    assert all(r.path == "/api/status" for r in kibana[:3]) and kibana[3].path != "/api/status"
    assert waiting_line in result.stdout


def test_proceeds_when_only_a_plugin_is_degraded(stack, assets, passwords):
    stack.kibana_plugin_levels = {"reporting": "degraded"}

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    assert [r.status for r in stack.recorded() if r.path == "/api/status"] == [200]
    assert "kibana: available (overall level degraded: Degraded)" in result.stdout
    assert writes(stack.recorded()) == EXPECTED_WRITES


@pytest.mark.parametrize("service", ["elasticsearch", "savedObjects"])
@pytest.mark.parametrize("level", ["degraded", "unavailable"])
def test_waits_while_a_core_service_is_not_available(stack, assets, passwords, service, level):
    stack.kibana_core_levels = {service: level}
    stack.kibana_core_levels_calls = 3

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    code = 200 if level == "degraded" else 503
    assert [r.status for r in stack.recorded() if r.path == "/api/status"] == [code, code, code, 200]
    levels = {"elasticsearch": "available", "savedObjects": "available", service: level}
    assert (f"waiting for kibana: HTTP {code}, core elasticsearch {levels['elasticsearch']}, "
            f"savedObjects {levels['savedObjects']}") in result.stdout
    assert writes(stack.recorded()) == EXPECTED_WRITES


@pytest.mark.parametrize(("service", "waiting"), [
    ("elasticsearch", "waiting for elasticsearch: cannot connect"),
    ("kibana", "waiting for kibana: cannot connect ([Errno 111] Connection refused)"),
])
def test_waits_while_a_service_refuses_connections(passwords, assets, service, waiting):
    """The service starts listening only once setup has said it is waiting for it: no race with setup's pace."""
    stack = FakeElasticStack(passwords["ELASTIC_PASSWORD"])
    stack.refuse_connections(service)
    with stack:
        env = setup_environment(stack, assets, passwords)
        with subprocess.Popen(
            [sys.executable, "-m", "provision"], cwd=SETUP_DIR, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        ) as process:
            printed = []
            for line in process.stdout:
                printed.append(line)
                if line.startswith(waiting):
                    break
            stack.accept_connections(service)
            rest, errors = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
    output = "".join(printed) + rest

    assert_no_password_printed(env, output + errors)
    assert process.returncode == 0, errors
    assert any(line.startswith(waiting) for line in printed), output
    assert writes(stack.recorded()) == EXPECTED_WRITES


def test_gives_up_on_elasticsearch_after_the_timeout(stack, assets, passwords):
    stack.health_not_ready_responses = 10**9

    result = run_setup(stack, assets, passwords, SETUP_TIMEOUT_SECONDS="1")

    assert result.returncode == 1
    assert "was not ready (cluster status yellow or green) within 1 s (SETUP_TIMEOUT_SECONDS)" in result.stderr
    assert "last answer: HTTP 408, cluster status red" in result.stderr
    assert writes(stack.recorded()) == []


def test_gives_up_on_a_hanging_elasticsearch(stack, assets, passwords):
    stack.hang.add(("elasticsearch", "GET", "/_cluster/health"))

    result = run_setup(stack, assets, passwords, SETUP_TIMEOUT_SECONDS="1", SETUP_REQUEST_TIMEOUT_SECONDS="0.4")

    assert result.returncode == 1
    assert "within 1 s (SETUP_TIMEOUT_SECONDS); last answer: no response within " in result.stderr
    assert "waiting for elasticsearch: no response within 0.4 s" in result.stdout
    assert writes(stack.recorded()) == []


def test_kibana_is_called_directly_whatever_proxy_the_environment_names(stack, assets, passwords):
    # Nothing listens on port 9: a client that used the proxy could not reach Kibana.
    proxy = "http://127.0.0.1:9"
    result = run_setup(stack, assets, passwords, HTTP_PROXY=proxy, http_proxy=proxy, ALL_PROXY=proxy, all_proxy=proxy)

    assert result.returncode == 0, result.stdout + result.stderr
    assert writes(stack.recorded()) == EXPECTED_WRITES


def test_gives_up_on_refused_connections(passwords, assets):
    stack = FakeElasticStack(passwords["ELASTIC_PASSWORD"])
    stack.refuse_connections("elasticsearch")
    with stack:
        result = run_setup(stack, assets, passwords, SETUP_TIMEOUT_SECONDS="0.5")

    assert result.returncode == 1
    assert "last answer: cannot connect" in result.stderr
    assert stack.recorded() == []


def test_gives_up_on_kibana_after_the_timeout(stack, assets, passwords):
    stack.kibana_unavailable_responses = 10**9

    # The last answer is reported, so answers must arrive on a busy machine: several 1 s attempts fit in 6 s,
    # so one slow answer cannot leave only a timeout to report.
    result = run_setup(stack, assets, passwords, SETUP_TIMEOUT_SECONDS="6", SETUP_REQUEST_TIMEOUT_SECONDS="1")

    assert result.returncode == 1
    assert "Kibana at " in result.stderr and "was not available within 6 s" in result.stderr
    assert "last answer: HTTP 503, core elasticsearch unavailable, savedObjects unavailable" in result.stderr
    assert not any(r.path.startswith("/api/saved_objects") for r in stack.recorded())


def test_a_hanging_call_fails_after_the_request_timeout(stack, assets, passwords):
    stack.hang.add(("kibana", "POST", "/api/saved_objects/_import"))

    result = run_setup(stack, assets, passwords, SETUP_REQUEST_TIMEOUT_SECONDS="0.5")

    assert result.returncode == 1
    assert "POST /api/saved_objects/_import?overwrite=true on " in result.stderr
    assert "failed: no response within 0.5 s" in result.stderr


def test_a_bad_setting_stops_with_exit_code_2_before_any_call_and_echoes_no_secret(stack, assets, passwords):
    # Each check's message: tests/stack/test_setup_checks.py.
    bad = {"KIBANA_URL": "http://elastic:Secret-in-URL@kibana:5601", "LOGSTASH_WRITER_PASSWORD": "Short-pw-11"}

    result = run_setup(stack, assets, passwords, **bad)

    assert result.returncode == 2
    assert result.stderr.startswith("setup: configuration error:\n")
    assert "KIBANA_URL must not contain credentials" in result.stderr
    assert "LOGSTASH_WRITER_PASSWORD is shorter than 12 characters" in result.stderr
    assert "Secret-in-URL" not in result.stdout + result.stderr
    assert "Short-pw-11" not in result.stdout + result.stderr
    assert stack.recorded() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda root: (root / "elasticsearch" / "index_templates" / "django-logs.json").write_text("{\n  oops"),
         "index_templates/django-logs.json is not valid JSON"),
        (lambda root: (root / SAVED_OBJECTS_FILE).write_text(""), "saved_objects.ndjson holds no saved objects"),
    ],
)
def test_a_bad_asset_stops_with_exit_code_2_before_any_call(stack, assets, passwords, change, message):
    # Each check's message: tests/stack/test_setup_checks.py.
    change(assets)

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 2
    assert result.stderr.startswith("setup: configuration error:\n")
    assert message in result.stderr
    assert stack.recorded() == []


def test_wrong_elastic_password_fails_at_once_with_a_clear_message(stack, assets, passwords):
    wrong = {**passwords, "ELASTIC_PASSWORD": "not-" + passwords["ELASTIC_PASSWORD"]}

    result = run_setup(stack, assets, wrong)

    assert result.returncode == 2
    assert "ELASTIC_PASSWORD is wrong" in result.stderr
    assert [(r.path, r.status) for r in stack.recorded()] == [("/_cluster/health", 401)]


def test_credentials_kibana_refuses_fail_at_once_with_a_clear_message(stack, assets, passwords):
    stack.kibana_refuses_credentials = True

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 2, result.stdout
    assert "ELASTIC_PASSWORD was refused by Kibana" in result.stderr
    assert [(r.path, r.status) for r in stack.recorded() if r.service == "kibana"] == [
        ("/api/status", 200), ("/api/features", 401)]


def test_the_redacted_preboot_503_is_waited_through_whatever_the_credentials(stack, assets, passwords):
    stack.kibana_preboot_responses = 2
    stack.kibana_refuses_credentials = True

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 2, result.stdout
    assert "waiting for kibana: HTTP 503, overall level unavailable\n" in result.stdout
    assert [(r.path, r.status) for r in stack.recorded() if r.service == "kibana"] == [
        ("/api/status", 503), ("/api/status", 503), ("/api/status", 200), ("/api/features", 401)]


def test_something_other_than_elasticsearch_is_refused(stack, assets, passwords):
    result = run_setup(stack, assets, passwords, ELASTICSEARCH_URL=stack.kibana_url)

    assert result.returncode == 2
    assert f"ELASTICSEARCH_URL={stack.kibana_url} answered without the X-Elastic-Product" in result.stderr
    assert writes(stack.recorded()) == []


def test_a_single_saved_object_is_compared_and_left_alone(stack, assets, passwords):
    (assets / SAVED_OBJECTS_FILE).write_text(json.dumps(SAVED_OBJECTS[0]) + "\n")
    assert run_setup(stack, assets, passwords).returncode == 0
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert step_lines(second.stdout)["saved objects (1 from saved_objects.ndjson)"] == "unchanged"
    assert writes(stack.recorded()[already:]) == []


def test_a_rule_whose_type_changed_is_not_updated(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    edit_json(assets / "kibana" / "rules" / "error-burst.json", lambda rule: rule["body"].update(rule_type_id=".index-threshold"))
    already = len(stack.recorded())

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 1
    assert "rule_type_id '.es-query'" in result.stderr and "delete the rule in Kibana" in result.stderr
    assert writes(stack.recorded()[already:]) == []


def test_the_repository_assets_provision_and_are_then_unchanged(stack, passwords):
    first = run_setup(stack, REPO_ROOT, passwords)
    assert first.returncode == 0, first.stdout + first.stderr
    already = len(stack.recorded())
    second = run_setup(stack, REPO_ROOT, passwords)

    assert second.returncode == 0, second.stdout + second.stderr
    assert set(step_lines(second.stdout).values()) == {"unchanged"}
    assert writes(stack.recorded()[already:]) == []


def test_the_repository_alerts_index_connector_and_every_rules_index_action_are_provisioned(stack, passwords):
    result = run_setup(stack, REPO_ROOT, passwords, LOG_RETENTION_DAYS="30")

    assert result.returncode == 0, result.stdout + result.stderr
    assert stack.templates["django-alerts"]["data_stream"] == {}
    assert stack.templates["django-alerts"]["template"]["settings"]["index"]["lifecycle"] == {"name": "django-alerts"}
    assert stack.policies["django-alerts"]["policy"]["phases"]["delete"]["min_age"] == "30d"
    assert stack.roles["django_responder"]["indices"][0]["names"] == ["django-logs-*", "django-alerts"]
    (index_id,) = [key for key, value in stack.connectors.items() if value["connector_type_id"] == ".index"]
    assert stack.connectors[index_id]["config"] == {"index": "django-alerts", "refresh": True, "executionTimeField": "@timestamp"}
    for stem, rule in repository_rules().items():
        stored = stack.rules[rule["id"]]
        assert sorted(action["connector_type_id"] for action in stored["actions"]) == [".index", ".server-log"], stem
        (index_action,) = [action for action in stored["actions"] if action["id"] == index_id]
        assert index_action["params"]["documents"][0]["rule"]["reference"] == f"docs/incident-response.md#{stem}"


def repository_rules() -> dict[str, dict]:
    """File stem -> {id, body} of kibana/rules/*.json, as written (placeholders unfilled)."""
    return {path.stem: json.loads(path.read_text()) for path in sorted((REPO_ROOT / "kibana" / "rules").glob("*.json"))}


def test_every_repository_rule_is_created_with_the_detection_settings_filled_in(stack, passwords):
    result = run_setup(stack, REPO_ROOT, passwords, BRUTE_FORCE_FAILURES="3", CREDENTIAL_STUFFING_WINDOW_MINUTES="7")

    assert result.returncode == 0, result.stdout + result.stderr
    rules = {stem: stack.rules[rule["id"]] for stem, rule in repository_rules().items()}
    assert set(rules) == {"brute-force-account", "brute-force-account-success", "brute-force-logins",
                          "brute-force-success", "credential-stuffing", "error-burst", "parse-failures",
                          "privilege-gain", "suspicious-requests"}
    assert "${" not in json.dumps(list(rules.values()))
    assert rules["brute-force-logins"]["params"]["threshold"] == [3]
    assert rules["brute-force-success"]["params"]["esqlQuery"]["esql"].endswith("WHERE failures > 3 AND last_login > first_failure")
    assert rules["brute-force-account"]["params"]["esqlQuery"]["esql"].endswith("WHERE failures > 3")
    assert rules["credential-stuffing"]["params"]["timeWindowSize"] == 7
    assert rules["error-burst"]["params"]["threshold"] == [20]  # the default


def test_a_changed_detection_setting_updates_only_the_rules_that_use_it(stack, passwords):
    assert run_setup(stack, REPO_ROOT, passwords).returncode == 0
    already = len(stack.recorded())

    result = run_setup(stack, REPO_ROOT, passwords, CREDENTIAL_STUFFING_USERS="8")

    assert result.returncode == 0, result.stdout + result.stderr
    stuffing = repository_rules()["credential-stuffing"]
    assert writes(stack.recorded()[already:]) == [("PUT", f"/api/alerting/rule/{stuffing['id']}")]
    assert step_lines(result.stdout)[f"rule {stuffing['id']} ({stuffing['body']['name']})"] == "updated"
    assert stack.rules[stuffing["id"]]["params"]["esqlQuery"]["esql"].endswith("WHERE distinct_users > 8")


def test_a_bad_detection_setting_stops_with_exit_code_2_before_any_call(stack, passwords):
    result = run_setup(stack, REPO_ROOT, passwords, SUSPICIOUS_REQUESTS_WINDOW_MINUTES="5m")

    assert result.returncode == 2
    assert "SUSPICIOUS_REQUESTS_WINDOW_MINUTES='5m' must be a whole number from 1 to 1440 (default 5)" in result.stderr
    assert stack.recorded() == []


# -- the fake refuses what the real APIs refuse, so the runs above prove the shapes ---------------


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "b0undary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/ndjson\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_fake_kibana_refuses_wrong_shapes_like_kibana(stack, passwords):
    password = passwords["ELASTIC_PASSWORD"]
    ndjson = json.dumps(SAVED_OBJECTS[0]).encode()
    json_headers = {"Content-Type": "application/json", "kbn-xsrf": "t"}
    imports = f"{stack.kibana_url}/api/saved_objects/_import?overwrite=true"

    body, ctype = multipart("file", "objects.ndjson", ndjson)
    assert call(imports, "POST", body, {"Content-Type": ctype}, password) == (
        400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."})
    body, ctype = multipart("file", "objects.json", ndjson)
    status, answer = call(imports, "POST", body, {"Content-Type": ctype, "kbn-xsrf": "t"}, password)
    assert (status, answer["message"]) == (400, "Invalid file extension .json")
    body, ctype = multipart("upload", "objects.ndjson", ndjson)
    assert call(imports, "POST", body, {"Content-Type": ctype, "kbn-xsrf": "t"}, password)[0] == 400
    assert call(imports, "POST", ndjson, json_headers, password)[0] == 415
    assert call(imports, "POST", b"", {"kbn-xsrf": "t"}, "wrong-password")[0] == 401

    connector = f"{stack.kibana_url}/api/actions/connector/c1"
    create = json.dumps(CONNECTORS["server-log"]["body"]).encode()
    assert call(connector, "POST", create, json_headers, password)[0] == 200
    update = json.dumps(CONNECTORS["server-log"]["body"]).encode()  # update may not carry connector_type_id
    assert call(connector, "PUT", update, json_headers, password)[1]["message"] == (
        "[request body.connector_type_id]: definition for this key is missing")

    rule = f"{stack.kibana_url}/api/alerting/rule/r1"
    with_connector = {**RULE["body"], "actions": [{**RULE["body"]["actions"][0], "id": "c1"}]}
    without_consumer = {key: value for key, value in with_connector.items() if key != "consumer"}
    assert call(rule, "POST", json.dumps(without_consumer).encode(), json_headers, password)[0] == 400
    assert call(rule, "POST", json.dumps(with_connector).encode(), json_headers, password)[0] == 200
    assert call(rule, "PUT", json.dumps(with_connector).encode(), json_headers, password)[1]["message"] == (
        "[request body.consumer]: definition for this key is missing")
    rule_level_notify = {key: with_connector[key] for key in ("name", "schedule", "params", "actions")}
    rule_level_notify["notify_when"] = "onActiveAlert"
    assert "per-action frequency" in call(rule, "PUT", json.dumps(rule_level_notify).encode(), json_headers, password)[1]["message"]


def get_status(stack: FakeElasticStack, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(f"{stack.kibana_url}/api/status", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def redacted(level: str) -> dict:
    return {"status": {"overall": {"level": level}}}


def test_fake_kibana_status_answers_like_kibana(stack, passwords):
    authenticated = basic_auth(passwords["ELASTIC_PASSWORD"])
    wrong = basic_auth("wrong-password")
    stack.kibana_preboot_responses = 2
    # Preboot: 503 and the redacted body, whatever the credentials (status_preboot.ts: authc disabled).
    assert get_status(stack, wrong) == (503, redacted("unavailable"))
    assert get_status(stack, authenticated) == (503, redacted("unavailable"))
    # Then authRequired 'optional' (status.ts), hapi mode 'try' (http_server.ts getAuthOption): no
    # credentials and wrong ones alike get the redacted core level, never a 401.
    assert get_status(stack, {}) == (200, redacted("available"))
    assert get_status(stack, wrong) == (200, redacted("available"))
    stack.kibana_plugin_levels = {"reporting": "degraded"}
    status, body = get_status(stack, authenticated)
    assert status == 200 and body["status"]["overall"]["level"] == "degraded"
    assert {name: service["level"] for name, service in body["status"]["core"].items()} == {
        "elasticsearch": "available", "savedObjects": "available"}
    assert get_status(stack, {}) == (200, redacted("available"))  # plugins are not in the redacted level
    stack.kibana_core_levels = {"savedObjects": "degraded"}
    assert get_status(stack, {}) == (200, redacted("degraded"))
    stack.kibana_core_levels = {"elasticsearch": "unavailable"}
    assert get_status(stack, {}) == (503, redacted("unavailable"))
    assert get_status(stack, authenticated)[1]["status"]["overall"]["level"] == "unavailable"


def import_file(stack: FakeElasticStack, password: str, objects: list[dict]) -> tuple[int, dict]:
    content = "".join(json.dumps(item) + "\n" for item in objects).encode()
    body, ctype = multipart("file", "objects.ndjson", content)
    return call(f"{stack.kibana_url}/api/saved_objects/_import?overwrite=true", "POST", body,
                {"Content-Type": ctype, "kbn-xsrf": "t"}, password)


def exported(stack: FakeElasticStack, password: str, kind: str, object_id: str) -> dict:
    request = urllib.request.Request(
        f"{stack.kibana_url}/api/saved_objects/_export", method="POST",
        data=json.dumps({"objects": [{"type": kind, "id": object_id}], "excludeExportDetails": True}).encode(),
        headers={**basic_auth(password), "Content-Type": "application/json", "kbn-xsrf": "t"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("stamp", [{"typeMigrationVersion": "7.9.3"}, {"migrationVersion": {"search": "7.9.3"}}, {}])
def test_fake_kibana_migrates_saved_searches_into_tabs(stack, passwords, stamp):
    password = passwords["ELASTIC_PASSWORD"]
    search = {key: value for key, value in SAVED_OBJECTS[1].items() if key not in ("typeMigrationVersion", "coreMigrationVersion")}
    search = {**search, **stamp, "attributes": {**search["attributes"], "description": "Errors", "hits": 0, "version": 1}}

    assert import_file(stack, password, [SAVED_OBJECTS[0], search]) == (200, {
        "success": True, "successCount": 2, "warnings": [], "successResults": [
            {"type": "index-pattern", "id": "django-logs", "meta": {"title": "django-logs-*", "icon": "document"}},
            {"type": "search", "id": "django-logs-errors", "meta": {"title": "Django errors", "icon": "document"}},
        ]})

    # extract_tabs.ts (v6 backfill) then model version 13: title, description and one tab, without hits/version.
    stored = exported(stack, password, "search", "django-logs-errors")
    [tab] = stored["attributes"].pop("tabs")
    assert stored["attributes"] == {"title": "Django errors", "description": "Errors"}
    assert tab["label"] == "Untitled" and re.fullmatch(r"[0-9a-f-]{36}", tab["id"])
    assert tab["attributes"] == {key: SAVED_OBJECTS[1]["attributes"][key] for key in ("columns", "sort", "kibanaSavedObjectMeta")}
    assert stored["typeMigrationVersion"] == "10.13.0" and stored["references"] == SAVED_OBJECTS[1]["references"]


def test_fake_kibana_validates_a_current_object_as_is(stack, passwords):
    # Stamped at the latest model version, no migration runs: a flat saved search lacks `tabs`.
    current = {**SAVED_OBJECTS[1], "typeMigrationVersion": "10.13.0"}

    status, answer = import_file(stack, passwords["ELASTIC_PASSWORD"], [SAVED_OBJECTS[0], current])

    assert status == 200 and answer["success"] is False and answer["successCount"] == 1
    [error] = answer["errors"]
    assert (error["type"], error["id"], error["error"]["type"]) == ("search", "django-logs-errors", "unknown")
    assert error["error"]["message"] == "[attributes.columns]: definition for this key is missing: Bad Request"
    assert ("search", "django-logs-errors") not in stack.saved_objects
    without_tabs = {**current, "attributes": {"title": "Django errors"}}
    status, answer = import_file(stack, passwords["ELASTIC_PASSWORD"], [SAVED_OBJECTS[0], without_tabs])
    assert answer["errors"][0]["error"]["message"] == (
        "[attributes.tabs]: expected value of type [array] but got [undefined]: Bad Request")


def test_fake_kibana_refuses_newer_stamps_and_creates_nothing(stack, passwords):
    newer = {**SAVED_OBJECTS[1], "typeMigrationVersion": "10.14.0"}

    assert import_file(stack, passwords["ELASTIC_PASSWORD"], [SAVED_OBJECTS[0], newer]) == (422, {
        "statusCode": 422, "error": "Unprocessable Entity",
        "message": 'Document "django-logs-errors" belongs to a more recent version of Kibana [10.14.0] '
                   "when the last known version is [10.13.0]."})
    assert stack.saved_objects == {}


def test_fake_kibana_creates_nothing_while_a_reference_is_missing(stack, passwords):
    status, answer = import_file(stack, passwords["ELASTIC_PASSWORD"], SAVED_OBJECTS[1:])

    assert status == 200
    assert (answer["success"], answer["successCount"]) == (False, 1)  # counted, yet not created
    assert [(e["id"], e["error"]) for e in answer["errors"]] == [
        ("django-logs-errors", {"type": "missing_references", "references": [{"type": "index-pattern", "id": "django-logs"}]})]
    assert stack.saved_objects == {}


GOOD_PARAMS = RULE["body"]["params"]
ESQL_PARAMS = {"searchType": "esqlQuery", "esqlQuery": {"esql": "FROM django-logs-* | STATS n = COUNT(*) BY source.ip"},
               "timeField": "@timestamp", "threshold": [0], "thresholdComparator": ">", "timeWindowSize": 5,
               "timeWindowUnit": "m", "size": 0}


def post_rule(stack, passwords, body: dict) -> tuple[int, dict]:
    """POST a rule to the fake Kibana once the connector its action names exists."""
    password = passwords["ELASTIC_PASSWORD"]
    json_headers = {"Content-Type": "application/json", "kbn-xsrf": "t"}
    connector = json.dumps(CONNECTORS["server-log"]["body"]).encode()
    assert call(f"{stack.kibana_url}/api/actions/connector/{LOG_CONNECTOR_ID}", "POST", connector, json_headers, password)[0] == 200
    return call(f"{stack.kibana_url}/api/alerting/rule/r1", "POST", json.dumps(body).encode(), json_headers, password)


@pytest.mark.parametrize(("params", "message"), [
    ({key: v for key, v in GOOD_PARAMS.items() if key != "threshold"}, "params invalid: [threshold]:"),
    ({**GOOD_PARAMS, "esQuery": "{not json"}, "params invalid: [esQuery]: must be valid JSON"),
    ({**GOOD_PARAMS, "esQuery": json.dumps({"size": 1})}, 'params invalid: [esQuery]: must contain "query"'),
    # JavaScript truthiness in validateParams: {} and [] are truthy objects without a truthy "query".
    ({**GOOD_PARAMS, "esQuery": "{}"}, 'params invalid: [esQuery]: must contain "query"'),
    ({**GOOD_PARAMS, "esQuery": "[]"}, 'params invalid: [esQuery]: must contain "query"'),
    ({**GOOD_PARAMS, "esQuery": '{"query": 0}'}, 'params invalid: [esQuery]: must contain "query"'),
    ({**GOOD_PARAMS, "esQuery": '{"query": NaN}'}, "params invalid: [esQuery]: must be valid JSON"),  # JSON.parse
    ({**GOOD_PARAMS, "aggType": "avg", "aggField": ""},
     "params invalid: [aggField]: value has length [0] but it must have a minimum length of [1]."),
    ({**GOOD_PARAMS, "groupBy": "top", "termField": "user.name", "termSize": 0},
     "params invalid: [termSize]: Value must be equal to or greater than [1]."),
    ({**GOOD_PARAMS, "excludeHitsFromPreviousRun": "yes"},
     "params invalid: [excludeHitsFromPreviousRun]: expected value of type [boolean] but got [string]"),
    ({**GOOD_PARAMS, "excludeHitsFromPreviousRun": 0},
     "params invalid: [excludeHitsFromPreviousRun]: expected value of type [boolean] but got [number]"),
    ({**GOOD_PARAMS, "groupBy": "top", "termField": ["user.name"], "termSize": 5},
     "params invalid: [termField]: types that failed validation"),
    ({**GOOD_PARAMS, "groupBy": "top", "termField": list("abcde"), "termSize": 5},
     "params invalid: [termField]: types that failed validation"),
    ({**GOOD_PARAMS, "groupBy": "top", "termField": "", "termSize": 5},
     "params invalid: [termField]: types that failed validation"),
    ({"searchType": "esqlQuery", "esqlQuery": {"esql": "FROM django-logs-*", "params": []}, "timeField": "@timestamp",
      "threshold": [0], "thresholdComparator": ">", "timeWindowSize": 5, "timeWindowUnit": "m", "size": 0},
     "params invalid: [esqlQuery.params]: definition for this key is missing"),
    ({**GOOD_PARAMS, "timeWindowUnit": "w"}, 'params invalid: [timeWindowUnit]: invalid timeWindowUnit: "w"'),
    ({**GOOD_PARAMS, "thresholdComparator": "between"},
     'params invalid: [threshold]: must have two elements for the "between" comparator'),
    ({**GOOD_PARAMS, "aggType": "avg"}, 'params invalid: [aggField]: must have a value when [aggType] is "avg"'),
    ({**GOOD_PARAMS, "groupBy": "top", "termSize": 5}, "params invalid: [termField]: termField required when [groupBy] is top"),
    ({**GOOD_PARAMS, "groupBy": "top", "termField": "user.name", "termSize": 1001},
     "params invalid: [termSize]: must be less than or equal to 1000"),
    ({**GOOD_PARAMS, "size": 10001}, "params invalid: [size]:"),
    ({**GOOD_PARAMS, "timeField": ""}, "params invalid: [timeField]:"),
    ({**GOOD_PARAMS, "index": []}, "params invalid: [index]:"),
    ({**GOOD_PARAMS, "esqlQuery": {"esql": "FROM x"}}, "params invalid: [esqlQuery]: a value wasn't expected to be present"),
    ({**GOOD_PARAMS, "indexName": "x"}, "params invalid: [indexName]: definition for this key is missing"),
    ({"searchType": "esqlQuery", "esqlQuery": {"esql": "FROM django-logs-* | LIMIT 5"}, "timeField": "@timestamp",
      "threshold": [0], "thresholdComparator": "<", "timeWindowSize": 5, "timeWindowUnit": "m", "size": 0},
     "params invalid: [thresholdComparator]: is required to be greater than"),

    ({**ESQL_PARAMS, "threshold": [5]}, "params invalid: [threshold]: is required to be 0"),
    ({key: v for key, v in ESQL_PARAMS.items() if key != "timeField"}, "params invalid: [timeField]: is required"),
    ({**ESQL_PARAMS, "alertType": "alertPerRow"}, "params invalid: [alertType]: definition for this key is missing"),
    ({**ESQL_PARAMS, "index": ["django-logs-*"]}, "params invalid: [index]: a value wasn't expected to be present"),
    # rule_params/common/utils.ts AggTypes: no distinct count outside ES|QL.
    ({**GOOD_PARAMS, "aggType": "cardinality", "aggField": "user.name"}, 'params invalid: [aggType]: invalid aggType: "cardinality"'),
    ({**GOOD_PARAMS, "groupBy": "row"},
     "params invalid: [groupBy]: groupBy should be all or top when [searchType] is not esqlQuery"),
    ({**GOOD_PARAMS, "groupBy": "each"}, 'params invalid: [groupBy]: invalid groupBy: "each"'),
])
def test_fake_kibana_validates_es_query_params_like_kibana(stack, passwords, params, message):
    status, answer = post_rule(stack, passwords, {**RULE["body"], "params": params})

    assert status == 400 and answer["message"].startswith(message), answer
    assert stack.rules == {}


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"consumer": "logs"}, 403, 'Unauthorized by "logs" to create ".es-query" rule'),
    ({"actions": [{**RULE["body"]["actions"][0], "group": "default"}]}, 400, "Invalid action groups: default"),
    ({"actions": [{**RULE["body"]["actions"][0], "id": "no-such-connector"}]}, 400,
     "Failed to validate actions due to the following error: Saved object [action/no-such-connector] not found"),
])
def test_fake_kibana_validates_consumer_and_actions_like_kibana(stack, passwords, change, status, message):
    answer = post_rule(stack, passwords, {**RULE["body"], **change})

    assert answer[0] == status and answer[1]["message"] == message
    assert stack.rules == {}


@pytest.mark.parametrize(("change", "stored"), [
    ({"esQuery": '{"query": {}}'}, {}),  # an empty object is truthy in JavaScript
    ({"esQuery": "null"}, {}),  # `parsedQuery && ...`: null skips the check
    ({"excludeHitsFromPreviousRun": "FALSE"}, {"excludeHitsFromPreviousRun": False}),  # coerced, any case
    ({"groupBy": "top", "termField": ["user.name", "source.ip"], "termSize": 1}, {}),
])
def test_fake_kibana_accepts_es_query_params_kibana_accepts(stack, passwords, change, stored):
    status, answer = post_rule(stack, passwords, {**RULE["body"], "params": {**GOOD_PARAMS, **change}})

    assert status == 200, answer
    assert answer["params"] == {"excludeHitsFromPreviousRun": True, "aggType": "count", "groupBy": "all",
                                "searchType": "esQuery", **GOOD_PARAMS, **change, **stored}


def test_fake_kibana_accepts_the_other_es_query_forms(stack, passwords):
    password = passwords["ELASTIC_PASSWORD"]
    json_headers = {"Content-Type": "application/json", "kbn-xsrf": "t"}
    connector = json.dumps(CONNECTORS["server-log"]["body"]).encode()
    assert call(f"{stack.kibana_url}/api/actions/connector/{LOG_CONNECTOR_ID}", "POST", connector, json_headers, password)[0] == 200
    forms = {
        "grouped": {**GOOD_PARAMS, "groupBy": "top", "termField": "user.name", "termSize": 10, "aggType": "max",
                    "aggField": "event.duration"},
        "esql": {"searchType": "esqlQuery", "esqlQuery": {"esql": "FROM django-logs-* | LIMIT 5"}, "timeField": "@timestamp",
                 "threshold": [0], "thresholdComparator": ">", "timeWindowSize": 5, "timeWindowUnit": "m", "size": 0},
        "esql-per-row": {**ESQL_PARAMS, "groupBy": "row"},
        # v1.ts validateParams returns after the ES|QL checks: the groupBy top checks never run.
        "esql-top-without-term": {**ESQL_PARAMS, "groupBy": "top"},
    }
    for name, params in forms.items():
        status, answer = call(f"{stack.kibana_url}/api/alerting/rule/{name}", "POST",
                              json.dumps({**RULE["body"], "params": params}).encode(), json_headers, password)
        assert status == 200, answer
        assert answer["params"]["excludeHitsFromPreviousRun"] is True  # the schema's default, filled in


def test_fake_elasticsearch_answers_like_elasticsearch(stack, passwords):
    password = passwords["ELASTIC_PASSWORD"]
    health = f"{stack.elasticsearch_url}/_cluster/health"
    compat7 = {"Accept": "application/vnd.elasticsearch+json; compatible-with=7"}
    assert call(health, "GET", None, compat7, password)[1]["error"]["type"] == "media_type_header_exception"
    assert call(health, "GET", None, {}, "wrong-password")[0] == 401
    request = urllib.request.Request(health, headers=basic_auth(password))
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["X-Elastic-Product"] == "Elasticsearch"
    role = f"{stack.elasticsearch_url}/_security/role/r"
    typo = json.dumps({"clusters": ["monitor"]}).encode()
    assert call(role, "PUT", typo, {"Content-Type": "application/json"}, password)[0] == 400
    assert call(role, "PUT", b"{}", {"Content-Type": "text/plain"}, password)[0] == 406


# -- the image ---------------------------------------------------------------------------------


def test_provision_needs_nothing_beyond_the_standard_library_and_the_pinned_clients():
    modules = set()
    for path in sorted(PROVISION_PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        modules |= {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert modules - set(sys.stdlib_module_names) - {"__future__", "provision"} == {"elasticsearch", "urllib3", "certifi"}
    pins = (REPO_ROOT / "setup" / "requirements.txt").read_text().splitlines()
    assert "elasticsearch==9.5.1" in pins
    assert "urllib3==2.8.0" in pins
    assert "certifi==2026.10.19.post1" in pins  # the public CAs https URLs are verified with when TLS_CA_FILE is unset


def test_setup_image_is_pinned_runs_as_non_root_and_starts_provision():
    lines = [line.strip() for line in (REPO_ROOT / "setup" / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    [base] = [line for line in instructions if line.startswith("FROM ")]
    assert re.fullmatch(r"FROM python:3\.12\.\d+-slim-bookworm", base)
    [user] = [line for line in instructions if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("root", "0")
    assert "COPY provision /setup/provision" in instructions
    assert "WORKDIR /setup" in instructions
    assert any("pip install --no-cache-dir -r /setup/requirements.txt" in line for line in instructions)
    assert instructions[-1] == 'CMD ["python", "-m", "provision"]'
