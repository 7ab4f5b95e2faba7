"""The alert rules' owner: setup creates and updates the rules as the least-privilege user django_alerting,
so Kibana grants each rule's API key (its searches, its Index connector's writes) as that user.

Setup runs as a real process against the fake Elasticsearch + Kibana (tests/support/fake_elastic.py),
which authorizes each rule call by the caller's roles and records the caller as the rule's API key owner.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.fake_elastic import FakeElasticStack
from tests.support.paths import REPO_ROOT
from tests.support.setup_assets import (
    CONNECTORS,
    LOG_CONNECTOR_ID,
    RULE,
    RULE_ID,
    edit_json,
    write_json,
)
from tests.support.setup_run import run_setup, step_lines, writes

RULE_STEP = f"rule {RULE_ID} (Django error burst)"
RULE_PATH = f"/api/alerting/rule/{RULE_ID}"
# A second rule, so that "every rule" means more than one.
OTHER_ID = "django-logs-other-burst"
OTHER_STEP = f"rule {OTHER_ID} (Other burst)"
OTHER_PATH = f"/api/alerting/rule/{OTHER_ID}"
RULE_KEYS_RECORD_PATH = "/_component_template/django-logs-setup-rule-keys"
KEYS_RENEWED = "API key updated (role django_alerting changed)"


def basic_user(header: str) -> str:
    return base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")[0]


def call_as(user: str, password: str, url: str, method: str, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(), "kbn-xsrf": "t"}
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_the_rules_user_exists_with_only_its_role(stack, assets, passwords):
    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    assert stack.users["django_alerting"]["roles"] == ["django_alerting"]
    assert stack.password_works("django_alerting", passwords["ALERTING_PASSWORD"])
    assert stack.roles["django_alerting"]["applications"] == [{
        "application": "kibana-.kibana", "privileges": ["feature_stackAlerts.all", "feature_actions.read"],
        "resources": ["space:default"],
    }]


def test_rules_are_created_as_django_alerting_and_everything_else_as_elastic(stack, assets, passwords):
    result = run_setup(stack, assets, passwords)

    assert result.returncode == 0, result.stderr
    kibana_calls = [request for request in stack.recorded() if request.service == "kibana" and request.path != "/api/status"]
    callers = {(request.method, request.path): basic_user(request.headers["authorization"]) for request in kibana_calls}
    assert {key: user for key, user in callers.items() if key[1].startswith("/api/alerting/")} == {
        ("GET", RULE_PATH): "django_alerting", ("POST", RULE_PATH): "django_alerting",
    }
    assert {user for key, user in callers.items() if not key[1].startswith("/api/alerting/")} == {"elastic"}
    rule = stack.rules[RULE_ID]
    assert (rule["api_key_owner"], rule["created_by"], rule["updated_by"]) == ("django_alerting",) * 3


def test_a_rule_last_updated_as_elastic_is_updated_once_and_then_left_alone(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    # As an earlier setup did: the same body, sent as elastic, so the key is elastic's.
    update = {key: RULE["body"][key] for key in ("name", "tags", "schedule", "params", "actions")}
    status, answer = call_as("elastic", passwords["ELASTIC_PASSWORD"], stack.kibana_url + RULE_PATH, "PUT", update)
    assert (status, answer["api_key_owner"]) == (200, "elastic")
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert f"{RULE_STEP}: updated (its API key was elastic's, now django_alerting's)" in second.stdout.splitlines()
    assert writes(stack.recorded()[already:]) == [("PUT", RULE_PATH)]
    assert stack.rules[RULE_ID]["api_key_owner"] == "django_alerting"
    assert stack.rules[RULE_ID]["updated_by"] == "django_alerting"
    already = len(stack.recorded())

    third = run_setup(stack, assets, passwords)

    assert third.returncode == 0, third.stderr
    assert step_lines(third.stdout)[RULE_STEP] == "unchanged"
    assert writes(stack.recorded()[already:]) == []


def test_a_rotated_alerting_password_is_set_and_the_rules_are_read_with_it(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    rotated = {**passwords, "ALERTING_PASSWORD": "al2-" + secrets.token_urlsafe(18)}
    already = len(stack.recorded())

    second = run_setup(stack, assets, rotated)

    assert second.returncode == 0, second.stderr
    outcomes = step_lines(second.stdout)
    assert (outcomes["user django_alerting"], outcomes[RULE_STEP]) == ("updated", "unchanged")
    assert writes(stack.recorded()[already:]) == [("PUT", "/_security/user/django_alerting")]
    assert stack.password_works("django_alerting", rotated["ALERTING_PASSWORD"])
    assert not stack.password_works("django_alerting", passwords["ALERTING_PASSWORD"])


def test_a_disabled_rule_has_no_key_and_is_left_alone(stack, assets, passwords):
    edit_json(assets / "kibana" / "rules" / "error-burst.json", lambda rule: rule["body"].update(enabled=False))
    assert run_setup(stack, assets, passwords).returncode == 0
    assert stack.rules[RULE_ID]["api_key_owner"] is None
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert step_lines(second.stdout)[RULE_STEP] == "unchanged"
    assert writes(stack.recorded()[already:]) == []


def test_an_enabled_rule_without_an_api_key_is_updated_once_saying_it_had_none(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    # What a failed grant leaves (create_new_api_key_set.ts: the rule is saved, its key attributes null).
    stack.rules[RULE_ID].update(api_key_owner=None, api_key_created_by_user=None)
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert f"{RULE_STEP}: updated (it had no API key, now django_alerting's)" in second.stdout.splitlines()
    assert writes(stack.recorded()[already:]) == [("PUT", RULE_PATH)]
    assert stack.rules[RULE_ID]["api_key_owner"] == "django_alerting"
    already = len(stack.recorded())

    third = run_setup(stack, assets, passwords)

    assert third.returncode == 0, third.stderr
    assert writes(stack.recorded()[already:]) == []


ROLE_FILE = ("elasticsearch", "roles", "django_alerting.json")


def hint_for(assets: Path, rule_file: str = "error-burst.json") -> str:
    return (f"Kibana refused this to django_alerting: grant the privileges it lacks in {assets.joinpath(*ROLE_FILE)} "
            f"(or, if the consumer in {assets / 'kibana' / 'rules' / rule_file} is one no Kibana feature registers "
            "for its rule type, fix the consumer there).")


def test_a_rules_role_without_connector_read_stops_setup_at_the_rule_naming_the_role_file(stack, assets, passwords):
    edit_json(assets.joinpath(*ROLE_FILE), lambda role: role["applications"][0].update(privileges=["feature_stackAlerts.all"]))

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 1
    assert f"POST {RULE_PATH} failed: HTTP 403: Unauthorized to get actions. {hint_for(assets)}" in result.stderr
    assert "Fix " not in result.stderr
    assert stack.rules == {}


def test_a_rules_role_without_rule_read_stops_setup_at_the_rule_get_naming_the_role_file(stack, assets, passwords):
    assert run_setup(stack, assets, passwords).returncode == 0
    edit_json(assets.joinpath(*ROLE_FILE), lambda role: role["applications"][0].update(privileges=["feature_actions.read"]))

    result = run_setup(stack, assets, passwords)

    assert result.returncode == 1
    assert (f'GET {RULE_PATH} failed: HTTP 403: Unauthorized by "alerts" to get ".es-query" rule. {hint_for(assets)}'
            in result.stderr)


def test_a_refused_consumer_names_both_fixes(stack, assets, passwords):
    edit_json(assets / "kibana" / "rules" / "error-burst.json", lambda rule: rule["body"].update(consumer="logs"))

    result = run_setup(stack, assets, passwords)

    # The fake refuses a consumer no feature registers before it checks privileges, as Kibana does for a
    # superuser; the message is an authorization refusal all the same, so the hint names both fixes.
    assert result.returncode == 1
    assert f'POST {RULE_PATH} failed: HTTP 403: Unauthorized by "logs" to create ".es-query" rule. {hint_for(assets)}' in (
        result.stderr)


# -- the rules' API keys follow edits of django_alerting's role -------------------------------------


def add_other_rule(assets: Path) -> None:
    write_json(assets / "kibana" / "rules" / "other-burst.json",
               {"id": OTHER_ID, "body": {**RULE["body"], "name": "Other burst"}})


def add_a_privilege(assets: Path) -> None:
    edit_json(assets.joinpath(*ROLE_FILE), lambda role: role["indices"][0]["privileges"].append("view_index_metadata"))


def key_log_privileges(stack: FakeElasticStack, rule_id: str) -> list[str]:
    """The django-logs-* privileges in the role snapshot the rule's API key was granted with."""
    return stack.rule_key_roles[rule_id]["django_alerting"]["indices"][0]["privileges"]


def test_an_edited_role_renews_every_rules_key_once_and_then_nothing(stack, assets, passwords):
    add_other_rule(assets)
    assert run_setup(stack, assets, passwords).returncode == 0
    assert key_log_privileges(stack, RULE_ID) == key_log_privileges(stack, OTHER_ID) == ["read"]
    revisions = {rule_id: stack.rules[rule_id]["revision"] for rule_id in (RULE_ID, OTHER_ID)}
    add_a_privilege(assets)
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    new = stack.recorded()[already:]
    assert writes(new) == [
        ("PUT", "/_security/role/django_alerting"),
        ("POST", f"{RULE_PATH}/_update_api_key"),
        ("POST", f"{OTHER_PATH}/_update_api_key"),
        ("PUT", RULE_KEYS_RECORD_PATH),
    ]
    assert {basic_user(r.headers["authorization"]) for r in new if r.path.endswith("/_update_api_key")} == {
        "django_alerting"}
    lines = second.stdout.splitlines()
    assert f"{RULE_STEP}: {KEYS_RENEWED}" in lines and f"{OTHER_STEP}: {KEYS_RENEWED}" in lines
    assert step_lines(second.stdout)[RULE_STEP] == step_lines(second.stdout)[OTHER_STEP] == "unchanged"
    assert key_log_privileges(stack, RULE_ID) == key_log_privileges(stack, OTHER_ID) == ["read", "view_index_metadata"]
    assert {rule_id: stack.rules[rule_id]["revision"] for rule_id in (RULE_ID, OTHER_ID)} == revisions
    already = len(stack.recorded())

    third = run_setup(stack, assets, passwords)

    assert third.returncode == 0, third.stderr
    assert writes(stack.recorded()[already:]) == []
    assert KEYS_RENEWED not in third.stdout


def test_a_rule_written_in_the_same_run_is_not_renewed_again(stack, assets, passwords):
    add_other_rule(assets)
    assert run_setup(stack, assets, passwords).returncode == 0
    add_a_privilege(assets)
    edit_json(assets / "kibana" / "rules" / "error-burst.json", lambda rule: rule["body"]["params"].update(threshold=[9]))
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert writes(stack.recorded()[already:]) == [
        ("PUT", "/_security/role/django_alerting"),
        ("PUT", RULE_PATH),
        ("POST", f"{OTHER_PATH}/_update_api_key"),
        ("PUT", RULE_KEYS_RECORD_PATH),
    ]
    assert f"{RULE_STEP}: {KEYS_RENEWED}" not in second.stdout.splitlines()
    assert key_log_privileges(stack, RULE_ID) == key_log_privileges(stack, OTHER_ID) == ["read", "view_index_metadata"]


def test_a_run_that_stops_before_the_record_renews_the_keys_again(stack, assets, passwords):
    add_other_rule(assets)
    assert run_setup(stack, assets, passwords).returncode == 0
    add_a_privilege(assets)
    stack.failing_writes[RULE_KEYS_RECORD_PATH] = 1
    already = len(stack.recorded())

    crashed = run_setup(stack, assets, passwords)

    assert crashed.returncode == 1
    assert "PUT _component_template/django-logs-setup-rule-keys failed: HTTP 500" in crashed.stderr
    assert writes(stack.recorded()[already:]) == [
        ("PUT", "/_security/role/django_alerting"),
        ("POST", f"{RULE_PATH}/_update_api_key"),
        ("POST", f"{OTHER_PATH}/_update_api_key"),
        ("PUT", RULE_KEYS_RECORD_PATH),
    ]
    already = len(stack.recorded())

    again = run_setup(stack, assets, passwords)

    assert again.returncode == 0, again.stderr
    assert writes(stack.recorded()[already:]) == [
        ("POST", f"{RULE_PATH}/_update_api_key"),
        ("POST", f"{OTHER_PATH}/_update_api_key"),
        ("PUT", RULE_KEYS_RECORD_PATH),
    ]
    assert stack.component_templates["django-logs-setup-rule-keys"]["_meta"]["role"] == "django_alerting"
    already = len(stack.recorded())

    assert run_setup(stack, assets, passwords).returncode == 0
    assert writes(stack.recorded()[already:]) == []


def test_an_edited_role_leaves_a_disabled_rule_keyless(stack, assets, passwords):
    edit_json(assets / "kibana" / "rules" / "error-burst.json", lambda rule: rule["body"].update(enabled=False))
    assert run_setup(stack, assets, passwords).returncode == 0
    add_a_privilege(assets)
    already = len(stack.recorded())

    second = run_setup(stack, assets, passwords)

    assert second.returncode == 0, second.stderr
    assert writes(stack.recorded()[already:]) == [("PUT", "/_security/role/django_alerting"), ("PUT", RULE_KEYS_RECORD_PATH)]
    assert stack.rules[RULE_ID]["api_key_owner"] is None


def test_every_repository_rule_is_owned_by_django_alerting(stack, passwords):
    assert run_setup(stack, REPO_ROOT, passwords).returncode == 0

    rule_ids = [json.loads(path.read_text())["id"] for path in sorted((REPO_ROOT / "kibana" / "rules").glob("*.json"))]
    assert len(rule_ids) == 9
    assert {stack.rules[rule_id]["api_key_owner"] for rule_id in rule_ids} == {"django_alerting"}


# -- the fake Kibana authorizes rule calls as Kibana does -------------------------------------------


def add_user(stack: FakeElasticStack, password: str, name: str, applications: list[dict]) -> str:
    """A native user with one role of its own name holding these Kibana application privileges."""
    url = stack.elasticsearch_url
    assert call_as("elastic", password, f"{url}/_security/role/{name}", "PUT", {"applications": applications})[0] == 200
    user_password = "pw-" + secrets.token_urlsafe(12)
    body = {"password": user_password, "roles": [name]}
    assert call_as("elastic", password, f"{url}/_security/user/{name}", "PUT", body)[0] == 200
    return user_password


def kibana_privileges(*privileges: str) -> list[dict]:
    return [{"application": "kibana-.kibana", "privileges": list(privileges), "resources": ["space:default"]}]


def test_fake_kibana_refuses_rule_calls_the_callers_roles_do_not_allow(stack, passwords):
    elastic = passwords["ELASTIC_PASSWORD"]
    connector = f"{stack.kibana_url}/api/actions/connector/{LOG_CONNECTOR_ID}"
    assert call_as("elastic", elastic, connector, "POST", CONNECTORS["server-log"]["body"])[0] == 200
    viewer = add_user(stack, elastic, "viewer", kibana_privileges("feature_discover_v2.read"))
    rules_only = add_user(stack, elastic, "rules_only", kibana_privileges("feature_stackAlerts.all"))
    rule_url = f"{stack.kibana_url}/api/alerting/rule/r1"
    without_actions = {**RULE["body"], "actions": []}

    assert call_as("viewer", viewer, rule_url, "POST", RULE["body"]) == (403, {
        "statusCode": 403, "error": "Forbidden", "message": 'Unauthorized by "alerts" to create ".es-query" rule',
    })
    assert call_as("rules_only", rules_only, rule_url, "POST", RULE["body"]) == (403, {
        "statusCode": 403, "error": "Forbidden", "message": "Unauthorized to get actions",
    })
    assert stack.rules == {}
    status, created = call_as("rules_only", rules_only, rule_url, "POST", without_actions)
    assert (status, created["api_key_owner"], created["created_by"]) == (200, "rules_only", "rules_only")
    assert call_as("rules_only", rules_only, rule_url, "GET")[1]["api_key_owner"] == "rules_only"
    update = {key: without_actions[key] for key in ("name", "schedule", "params", "actions")}
    assert call_as("viewer", viewer, rule_url, "PUT", update)[1]["message"] == (
        'Unauthorized by "alerts" to update ".es-query" rule')
    assert call_as("viewer", viewer, rule_url, "GET")[0] == 403
    status, updated = call_as("elastic", elastic, rule_url, "PUT", update)
    assert (status, updated["api_key_owner"], updated["updated_by"], updated["created_by"]) == (
        200, "elastic", "elastic", "rules_only")


def test_fake_kibana_updates_a_rules_api_key_as_kibana_does(stack, passwords):
    elastic = passwords["ELASTIC_PASSWORD"]
    connector = f"{stack.kibana_url}/api/actions/connector/{LOG_CONNECTOR_ID}"
    assert call_as("elastic", elastic, connector, "POST", CONNECTORS["server-log"]["body"])[0] == 200
    viewer = add_user(stack, elastic, "viewer", kibana_privileges("feature_stackAlerts.read"))
    rules_only = add_user(stack, elastic, "rules_only", kibana_privileges("feature_stackAlerts.all"))
    rule_url = f"{stack.kibana_url}/api/alerting/rule/r1"
    assert call_as("elastic", elastic, rule_url, "POST", RULE["body"])[0] == 200
    key_url = f"{rule_url}/_update_api_key"

    assert call_as("viewer", viewer, key_url, "POST") == (403, {
        "statusCode": 403, "error": "Forbidden", "message": 'Unauthorized by "alerts" to updateApiKey ".es-query" rule',
    })
    assert call_as("rules_only", rules_only, key_url, "POST")[1]["message"] == "Unauthorized to execute actions"
    assert stack.rules["r1"]["api_key_owner"] == "elastic"
    assert call_as("elastic", elastic, f"{stack.kibana_url}/api/alerting/rule/nope/_update_api_key", "POST") == (404, {
        "statusCode": 404, "error": "Not Found", "message": "Saved object [alert/nope] not found",
    })
    assert call_as("viewer", viewer, rule_url, "GET")[0] == 200
    stack.users["viewer"]["roles"] = ["viewer", "rules_only_actions"]
    stack.roles["rules_only_actions"] = {"applications": kibana_privileges("feature_stackAlerts.all", "feature_actions.read")}

    assert call_as("viewer", viewer, key_url, "POST") == (204, {})

    rule = stack.rules["r1"]
    assert (rule["api_key_owner"], rule["updated_by"], rule["created_by"], rule["revision"]) == (
        "viewer", "viewer", "elastic", 0)
    assert set(stack.rule_key_roles["r1"]) == {"viewer", "rules_only_actions"}
