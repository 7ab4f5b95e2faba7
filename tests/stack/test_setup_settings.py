"""Setup's Kibana advanced settings (setup/provision/advanced_settings.py), run as a real process against the
fake Kibana, whose settings API follows Kibana's source (tests/support/fake_kibana_settings.py).

The repository's file adds django-logs-* to securitySolution:defaultIndex, keeping what is there.
"""

from __future__ import annotations

import json
import shutil

import pytest

from provision.assets import load_assets
from provision.errors import ConfigError
from tests.support.paths import REPO_ROOT
from tests.support.security_app_fields import SECURITY_DEFAULT_INDEX_PATTERNS
from tests.support.setup_assets import write_json
from tests.support.setup_run import json_call, run_setup, step_lines, writes

KEY = "securitySolution:defaultIndex"
STEP = f"advanced setting {KEY}"
REPOSITORY_FILE = REPO_ROOT / "kibana" / "advanced_settings" / "security-solution-default-index.json"
# Kibana's default of the setting, pinned from its source in tests/support/security_app_fields.py.
KIBANA_DEFAULT = list(SECURITY_DEFAULT_INDEX_PATTERNS)
SETTINGS_WRITE = ("POST", "/api/kibana/settings")


@pytest.fixture
def settings_assets(assets):
    """The sample assets plus the repository's advanced setting file."""
    folder = assets / "kibana" / "advanced_settings"
    folder.mkdir()
    shutil.copy(REPOSITORY_FILE, folder)
    return assets


def test_the_repository_file_pins_kibanas_default_and_adds_django_logs():
    body = json.loads(REPOSITORY_FILE.read_text())

    assert (body["setting"], body["add"], body["default"]) == (KEY, ["django-logs-*"], KIBANA_DEFAULT)


def test_unset_setting_gets_the_default_plus_ours_then_a_second_run_writes_nothing(stack, settings_assets, passwords):
    first = run_setup(stack, settings_assets, passwords)

    assert first.returncode == 0, first.stdout + first.stderr
    assert step_lines(first.stdout)[STEP] == "created"
    assert stack.ui_settings.stored == {KEY: [*KIBANA_DEFAULT, "django-logs-*"]}
    [post] = [r for r in stack.recorded() if (r.method, r.path) == SETTINGS_WRITE]
    assert post.headers["kbn-xsrf"]
    assert post.json() == {"changes": {KEY: [*KIBANA_DEFAULT, "django-logs-*"]}}
    already = len(stack.recorded())

    second = run_setup(stack, settings_assets, passwords)

    assert second.returncode == 0, second.stdout + second.stderr
    assert step_lines(second.stdout)[STEP] == "unchanged"
    assert writes(stack.recorded()[already:]) == []


def test_a_users_value_is_kept_and_ours_appended(stack, settings_assets, passwords):
    stack.ui_settings.stored[KEY] = ["my-app-*", "auditbeat-*"]

    result = run_setup(stack, settings_assets, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert step_lines(result.stdout)[STEP] == "updated"
    assert stack.ui_settings.stored[KEY] == ["my-app-*", "auditbeat-*", "django-logs-*"]


def test_a_value_that_already_holds_ours_is_not_written(stack, settings_assets, passwords):
    stack.ui_settings.stored[KEY] = ["django-logs-*"]

    result = run_setup(stack, settings_assets, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert step_lines(result.stdout)[STEP] == "unchanged"
    assert SETTINGS_WRITE not in writes(stack.recorded())
    assert stack.ui_settings.stored[KEY] == ["django-logs-*"]


def test_a_value_a_user_removed_is_added_again_on_the_next_run(stack, settings_assets, passwords):
    assert run_setup(stack, settings_assets, passwords).returncode == 0
    stack.ui_settings.stored[KEY] = ["logs-*"]  # as Stack Management > Advanced Settings would save it

    result = run_setup(stack, settings_assets, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert stack.ui_settings.stored[KEY] == ["logs-*", "django-logs-*"]


def test_a_setting_kibana_yml_overrides_stops_setup_naming_the_override(stack, settings_assets, passwords):
    stack.ui_settings.overrides[KEY] = ["logs-*"]

    result = run_setup(stack, settings_assets, passwords)

    assert result.returncode == 1
    assert f"{STEP} is set in kibana.yml (uiSettings.overrides)" in result.stderr
    assert "add django-logs-* to it there" in result.stderr
    assert SETTINGS_WRITE not in writes(stack.recorded())


def test_an_override_that_holds_ours_is_fine(stack, settings_assets, passwords):
    stack.ui_settings.overrides[KEY] = ["django-logs-*"]

    result = run_setup(stack, settings_assets, passwords)

    assert result.returncode == 0, result.stdout + result.stderr
    assert step_lines(result.stdout)[STEP] == "unchanged"


def test_a_value_kibana_refuses_fails_naming_the_file(stack, settings_assets, passwords):
    # 50 patterns plus ours: over the schema's maxSize of 50.
    path = settings_assets / "kibana" / "advanced_settings" / REPOSITORY_FILE.name
    body = json.loads(path.read_text())
    write_json(path, {**body, "default": [f"index-{number}-*" for number in range(50)]})

    result = run_setup(stack, settings_assets, passwords)

    assert result.returncode == 1
    assert "POST /api/kibana/settings failed: HTTP 400: [validation [securitySolution:defaultIndex]]: array size is [51]" in result.stderr
    assert f"Fix {path}." in result.stderr
    assert KEY not in stack.ui_settings.stored


def test_a_bad_settings_file_stops_with_exit_code_2_before_any_call(stack, settings_assets, passwords):
    path = settings_assets / "kibana" / "advanced_settings" / REPOSITORY_FILE.name
    write_json(path, {**json.loads(path.read_text()), "add": ["django-logs-*,secret-*"]})

    result = run_setup(stack, settings_assets, passwords)

    assert result.returncode == 2
    assert result.stderr.startswith("setup: configuration error:\n")
    assert "add holds \"django-logs-*,secret-*\"; each value must be a string of 1 to 255 printable characters" in result.stderr
    assert stack.recorded() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda body: body.pop("default"), "lacks default"),
        (lambda body: body.update(values=["x"]), "values not allowed"),
        (lambda body: body.update(setting="security Solution"), "setting must be a Kibana advanced setting key"),
        (lambda body: body.update(add=[]), "add must be a non-empty list of strings"),
        (lambda body: body.update(add="django-logs-*"), "add must be a non-empty list of strings"),
        (lambda body: body.update(add=["django-logs-*\nforged: yes"]), 'add holds "django-logs-*\\nforged: yes"'),
        (lambda body: body.update(add=["django\u202e-logs-*"]), 'add holds "django\\u202e-logs-*"'),
        (lambda body: body.update(add=["x" * 256]), "each value must be a string of 1 to 255"),
        (lambda body: body.update(default=["logs-*", "logs-*"]), "default lists a value twice"),
    ],
)
def test_bad_settings_files_are_refused(settings_assets, change, message):
    path = settings_assets / "kibana" / "advanced_settings" / REPOSITORY_FILE.name
    body = json.loads(path.read_text())
    change(body)
    write_json(path, body)

    with pytest.raises(ConfigError) as caught:
        load_assets(settings_assets, 14, {}, index_replicas=0)

    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_two_files_extending_one_setting_are_refused(settings_assets):
    shutil.copy(REPOSITORY_FILE, settings_assets / "kibana" / "advanced_settings" / "again.json")

    with pytest.raises(ConfigError) as caught:
        load_assets(settings_assets, 14, {}, index_replicas=0)

    assert "both extend securitySolution:defaultIndex: keep one file per setting" in str(caught.value)


# -- the fake answers as Kibana's routes do ---------------------------------------------------------


def kibana_call(stack, password: str, method: str, body: object = None, xsrf: bool = True) -> tuple[int, dict]:
    return json_call(f"{stack.kibana_url}/api/kibana/settings", method, password, body, **({"kbn-xsrf": "t"} if xsrf else {}))


def test_fake_kibana_settings_answer_like_kibanas_routes(stack, passwords):
    password = passwords["ELASTIC_PASSWORD"]

    assert kibana_call(stack, password, "GET") == (200, {"settings": {}})  # defaults are never listed
    assert kibana_call(stack, password, "POST", {"changes": {KEY: ["a-*"]}}, xsrf=False) == (
        400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."})
    assert kibana_call(stack, password, "POST", {"changes": {KEY: "a-*"}})[1]["message"] == (
        "[validation [securitySolution:defaultIndex]]: expected value of type [array] but got [string]")
    assert kibana_call(stack, password, "POST", {"changes": {KEY: ["a-*", 7]}})[1]["message"] == (
        "[validation [securitySolution:defaultIndex].1]: expected value of type [string] but got [number]")
    assert kibana_call(stack, password, "POST", {"values": {}})[0] == 400
    assert kibana_call(stack, password, "POST", {"changes": {KEY: ["a-*"], "no:such": 1}}) == (
        200, {"settings": {KEY: {"userValue": ["a-*"]}, "no:such": {"userValue": 1}}})  # unregistered: stored unchecked
    assert kibana_call(stack, password, "POST", {"changes": {KEY: None}}) == (200, {"settings": {"no:such": {"userValue": 1}}})
    stack.ui_settings.overrides[KEY] = ["b-*"]
    assert kibana_call(stack, password, "GET")[1]["settings"][KEY] == {"isOverridden": True, "userValue": ["b-*"]}
    assert kibana_call(stack, password, "POST", {"changes": {KEY: ["c-*"]}})[1]["message"] == (
        'Unable to update "securitySolution:defaultIndex" because it is overridden')
