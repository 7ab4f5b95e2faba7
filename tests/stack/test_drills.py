"""The offline drills (python -m drill --offline) against the real app under gunicorn: each scenario writes
exactly its events, once, they parse through the pipeline (on Joni and Joda when jruby is here), and the
rules evaluated on them fire exactly as written below; at the threshold its rule stays silent."""

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from drill import drill_log, offline
from drill.app_logs import AppLogs
from drill.rules import load_rules
from drill.scenarios import SCENARIOS
from drill.settings import DrillError, load_drill_settings
from drill.traffic import TrafficReport
from stack_models.logstash_events import Document
from tests.support.app_server import DEMO_PASSWORD, DEMO_USERNAME, app_environment, running_app
from tests.support.drills import command_env, drill_command
from tests.support.engines import engine_for_tests
from tests.support.paths import PACKAGE_SRC

NO_ENV_FILE = Path("/nonexistent/.env")
DEMO = {"DEMO_USERNAME": DEMO_USERNAME, "DEMO_PASSWORD": DEMO_PASSWORD}
# With setup's default detection settings (N=10 failures, K=5 users, 5 suspicious events, 20 errors):
# (security events from 127.0.0.1, ERROR records, the rules that fire) above the threshold, then at it.
ABOVE = {
    # One user name, so the per-account rule fires too.
    "brute-force": ({"user_login_failed": 11}, 0, {"brute-force-logins", "brute-force-account"}),
    # Its own user name, from the drill's address: the per-IP rule fires too.
    "brute-force-account": ({"user_login_failed": 11}, 0, {"brute-force-account", "brute-force-logins"}),
    "credential-stuffing": ({"user_login_failed": 6}, 0, {"credential-stuffing"}),
    # A brute force that then succeeds is a brute force too, from its address and on its account.
    "brute-force-success": ({"user_login_failed": 11, "user_logged_in": 1}, 0,
                            {"brute-force-logins", "brute-force-success", "brute-force-account",
                             "brute-force-account-success"}),
    # Bad Host, no CSRF cookie, bad request id, in turn; a bad Host is an ERROR record too.
    "suspicious": ({"disallowed_host": 2, "csrf_failure": 2, "malformed_request_id": 2}, 2, {"suspicious-requests"}),
    "error-burst": ({}, 21, {"error-burst"}),
}
AT_THRESHOLD = {
    "brute-force": ({"user_login_failed": 10}, 0),
    "brute-force-account": ({"user_login_failed": 10}, 0),
    "credential-stuffing": ({"user_login_failed": 5}, 0),
    "brute-force-success": ({"user_login_failed": 10, "user_logged_in": 1}, 0),
    "suspicious": ({"disallowed_host": 2, "csrf_failure": 2, "malformed_request_id": 1}, 2),
    "error-burst": ({}, 20),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("drill-app")) as app:
        yield app


@pytest.fixture(scope="module")
def settings():
    return load_drill_settings(DEMO, NO_ENV_FILE)


def security_events(verdict) -> Counter:
    return Counter(
        doc.source["event"]["action"]
        for doc in verdict.documents
        if doc.source.get("event", {}).get("dataset") == "django.security" and doc.source["source"]["ip"] == "127.0.0.1"
    )


def error_records(verdict) -> int:
    return sum(1 for doc in verdict.documents if doc.source.get("log", {}).get("level") == "ERROR")


def run(app, settings, name: str, below_threshold: bool):
    scenario = SCENARIOS[name]
    size = scenario.size(settings.detections, below_threshold)
    return offline.run(scenario, size, below_threshold, settings, load_rules(settings.detections), app.base_url,
                       app.log_dir, engine=engine_for_tests())


@pytest.mark.parametrize("name", sorted(ABOVE))
def test_each_scenario_writes_its_events_once_and_fires_exactly_its_rules(app, settings, name):
    verdict = run(app, settings, name, below_threshold=False)

    events, errors, rules = ABOVE[name]
    assert (verdict.passed, verdict.problems) == (True, [])
    assert security_events(verdict) == Counter(events)
    assert error_records(verdict) == errors
    assert set(verdict.fired) == rules
    for doc in verdict.documents:  # a traceback's lines make one event, which the codec tags multiline
        assert set(doc.source.get("tags", [])) <= {"multiline"}, doc.source["message"]
    if name != "error-burst":  # per source IP or account; the error burst is one alert for all records
        assert verdict.fired[SCENARIOS[name].rule] == [SCENARIOS[name].alert_id("127.0.0.1")]
    else:
        assert verdict.fired["error-burst"] == ["query matched"]


@pytest.mark.parametrize("name", sorted(AT_THRESHOLD))
def test_at_the_threshold_no_rule_fires(app, settings, name):
    verdict = run(app, settings, name, below_threshold=True)

    events, errors = AT_THRESHOLD[name]
    assert (verdict.passed, verdict.problems) == (True, [])
    assert security_events(verdict) == Counter(events)
    assert error_records(verdict) == errors
    assert verdict.fired == {}


def test_the_drill_judges_only_the_lines_written_while_it_ran(app, settings, tmp_path):
    # Twice the brute force at its threshold is above it, but each drill sees only its own lines.
    first = run(app, settings, "brute-force", below_threshold=True)
    second = run(app, settings, "brute-force", below_threshold=True)

    assert security_events(first) == security_events(second) == Counter({"user_login_failed": 10})
    assert first.fired == second.fired == {}


def test_an_app_that_wrote_nothing_to_the_log_folder_cannot_be_drilled(app, settings, tmp_path):
    scenario = SCENARIOS["brute-force"]

    with pytest.raises(DrillError) as raised:
        offline.run(scenario, 11, False, settings, load_rules(settings.detections), app.base_url, tmp_path)

    assert str(raised.value) == (
        f"the app at {app.base_url} answered the drill's 12 requests as the sample app does, but wrote nothing to "
        f"{tmp_path} while the drill ran: that folder is not where this app writes its logs (make run-app writes "
        "var/log; LOG_DIR= names another), or this app logs nothing for these requests (the sample app's security "
        "events come from django_elk_logging). The offline drill needs the sample app (make run-app) or an app that "
        "answers like it (for brute-force: /accounts/login/ served by Django's LoginView (a failed login shows the "
        f"form again)) and writes its records into {tmp_path} (django_debug.log, security.log, access.log) with "
        "django_elk_logging's request context (request_id=, and client_ip= on security events)."
    )


def package_logs(action: str) -> bool:
    """Whether the logging package logs ``action`` anywhere but in its table of events (security_events.py)."""
    modules = (PACKAGE_SRC / "django_elk_logging").glob("*.py")
    return any(f'"{action}"' in path.read_text() for path in modules if path.name != "security_events.py")


@pytest.mark.skipif(not package_logs("privilege_changed"), reason="the package does not log privilege changes yet "
                    "(issue 19's package side, merged separately)")
def test_the_privilege_gain_drill_makes_its_change_in_the_app_and_fires_its_rule_for_its_user(app, settings):
    """The app's own command, with the app's environment (its database and log folder), not traffic."""
    scenario = SCENARIOS["privilege-gain"]
    verdict = offline.run(scenario, 1, False, settings, load_rules(settings.detections), app.base_url, app.log_dir,
                          engine=engine_for_tests(), app_env=app_environment(app.log_dir.parent))

    assert (verdict.passed, verdict.problems) == (True, [])
    targets = Counter(doc.source["event"]["action"] for doc in verdict.documents
                      if doc.source.get("user", {}).get("target", {}).get("name") == "drill-privilege-127-0-0-1")
    assert targets == Counter({"user_created": 1, "privilege_changed": 1, "user_deleted": 1})
    assert set(verdict.fired) == {"privilege-gain"}
    [promoted, deleted] = sorted(verdict.fired["privilege-gain"], key=lambda alert_id: alert_id.split(",")[1])
    assert promoted.split(",")[1:] == ["privilege_changed", "drill-privilege-127-0-0-1", "is_staff"]
    assert deleted.split(",")[1:] == ["user_deleted", "drill-privilege-127-0-0-1"]


def test_the_drill_tells_its_own_per_event_alert_by_its_user():
    scenario = SCENARIOS["privilege-gain"]
    own = "2026-12-08T10:00:00.000Z,privilege_changed,drill-privilege-127-0-0-1,is_staff"
    other = "2026-12-08T10:00:00.000Z,privilege_changed,drill-privilege-127-0-0-10,is_staff"

    assert scenario.drill_alert([other, own], "127.0.0.1") and not scenario.drill_alert([other], "127.0.0.1")
    assert scenario.alert_id("127.0.0.1") is None and scenario.size({}, below_threshold=False) == 1
    assert scenario.drill_events("127.0.0.1") == ("user.target.name", "drill-privilege-127-0-0-1")


def test_the_privilege_gain_drill_has_no_below_the_threshold_run(tmp_path):
    refused = drill_command("privilege-gain", "--offline", "--below-threshold", env=command_env(tmp_path))

    assert refused.returncode == 2
    assert "privilege-gain has no threshold to stay below: its rule fires on every event" in refused.stderr


# --- the command: python -m drill, as make drill runs it ----------------------------------------------------


def test_make_drill_offline_prints_pass_and_appends_one_record(app, tmp_path):
    env = command_env(tmp_path, BRUTE_FORCE_FAILURES="3")
    log = tmp_path / "drills.tsv"
    common = ("--offline", "--base-url", app.base_url, "--log-dir", str(app.log_dir), "--drill-log", str(log),
              "--env-file", str(tmp_path / ".env"))

    passed = drill_command("brute-force", *common, env=env)
    silent = drill_command("brute-force", *common, "--below-threshold", env=env)

    assert (passed.returncode, passed.stderr) == (0, "")
    assert "would fire: brute-force-logins (alerts: 127.0.0.1)" in passed.stdout
    assert "PASS: drill brute-force, offline: offline, size 4: brute-force-logins would fire" in passed.stdout
    assert (silent.returncode, silent.stderr) == (0, "")
    assert "PASS: drill brute-force, offline: offline, size 3: brute-force-logins stays silent" in silent.stdout
    lines = [line.split("\t") for line in log.read_text().splitlines()]
    assert lines[0] == ["date", "scenario", "mode", "result", "latency_seconds", "detail"]
    assert [line[1:] for line in lines[1:]] == [
        ["brute-force", "offline", "PASS", "", "offline, size 4: brute-force-logins would fire"],
        ["brute-force", "offline", "PASS", "", "offline, size 3: brute-force-logins stays silent"],
    ]
    for line in lines[1:]:
        assert dt.datetime.fromisoformat(line[0]).tzinfo == dt.timezone.utc


def test_a_failed_drill_exits_1_and_is_recorded_as_fail(app, tmp_path):
    # A folder where the pipeline reads the app's access.log and django_debug.log, but not its security.log:
    # the security events never reach the rule, as when a file input breaks.
    env = command_env(tmp_path)
    log = tmp_path / "drills.tsv"
    (tmp_path / "partial").mkdir()
    for name in ("access.log", "django_debug.log"):
        (tmp_path / "partial" / name).symlink_to(app.log_dir / name)

    failed = drill_command("credential-stuffing", "--offline", "--base-url", app.base_url, "--log-dir",
                           str(tmp_path / "partial"), "--drill-log", str(log), "--env-file", str(tmp_path / ".env"),
                           env=env)

    assert (failed.returncode, failed.stderr) == (1, "")
    assert ("FAIL: drill credential-stuffing, offline: security events from 127.0.0.1: expected {'user_login_failed': 6}, "
            "the logs hold {}; credential-stuffing would not fire on these documents (alerts: none)") in failed.stdout
    assert log.read_text().splitlines()[1].split("\t")[3] == "FAIL"


@pytest.mark.parametrize(
    ("args", "values", "message"),
    [
        (("--log-dir", "/nonexistent/log"), {}, "/nonexistent/log is not a folder: start the app with make run-app"),
        ((), {"BRUTE_FORCE_FAILURES": "5000"}, "BRUTE_FORCE_FAILURES=5000 needs 5001 requests; a drill sends at most 1000"),
        ((), {"BRUTE_FORCE_FAILURES": "ten"}, "BRUTE_FORCE_FAILURES='ten' must be a whole number from 1 to 100000"),
    ],
)
def test_a_drill_that_cannot_run_exits_2_and_records_nothing(app, tmp_path, args, values, message):
    env = command_env(tmp_path, **values)
    log = tmp_path / "drills.tsv"

    refused = drill_command("brute-force", "--offline", "--base-url", app.base_url, "--log-dir", str(app.log_dir),
                            "--drill-log", str(log), "--env-file", str(tmp_path / ".env"), *args, env=env)

    assert refused.returncode == 2
    assert message in refused.stderr
    assert not log.exists()


def test_below_the_threshold_is_refused_live(tmp_path):
    refused = drill_command("brute-force", "--below-threshold", env=command_env(tmp_path))

    assert refused.returncode == 2
    assert "--below-threshold runs offline only" in refused.stderr


# --- the parts, on real files -------------------------------------------------------------------------------


def test_a_log_rotated_during_the_drill_is_an_error_not_a_guess(tmp_path):
    log = tmp_path / "security.log"
    log.write_text("")
    logs = AppLogs(tmp_path, "UTC")
    log.rename(tmp_path / "security.log.1")
    log.write_text("")

    with pytest.raises(DrillError, match="security.log was rotated or truncated during the drill: run it again"):
        logs.new_documents()


def test_the_drill_log_keeps_one_record_per_line_whatever_the_detail(tmp_path):
    path = tmp_path / "drills.tsv"
    when = dt.datetime(2026, 12, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    drill_log.append(path, drill_log.DrillRecord(when, "suspicious", "live", True, 42.25, "alert\tfor\n127.0.0.9"))
    drill_log.append(path, drill_log.DrillRecord(when, "error-burst", "live", False, None, "no alert"))

    assert path.read_text() == (
        "date\tscenario\tmode\tresult\tlatency_seconds\tdetail\n"
        "2026-12-02T03:04:05+00:00\tsuspicious\tlive\tPASS\t42.2\talert for 127.0.0.9\n"
        "2026-12-02T03:04:05+00:00\terror-burst\tlive\tFAIL\t\tno alert\n"
    )


def test_settings_come_from_the_environment_before_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("BRUTE_FORCE_FAILURES=7\nCREDENTIAL_STUFFING_USERS=3\nBIND_ADDRESS=0.0.0.0\nKIBANA_PORT=15601\n")

    settings = load_drill_settings({"BRUTE_FORCE_FAILURES": "9"}, env_file)

    assert (settings.detections["BRUTE_FORCE_FAILURES"], settings.detections["CREDENTIAL_STUFFING_USERS"]) == (9, 3)
    assert (settings.host, settings.kibana_port, settings.elasticsearch_port) == ("127.0.0.1", 15601, 9200)
    with pytest.raises(DrillError, match=r"ELASTICSEARCH_PORT='99999' is not a TCP port"):
        load_drill_settings({"ELASTICSEARCH_PORT": "99999"}, env_file)


def test_a_line_that_did_not_parse_fails_the_drill_through_the_parse_failures_rule(settings):
    now = dt.datetime.now(dt.timezone.utc)
    stamp = (now - dt.timedelta(seconds=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    broken = Document("django-logs-2026.12.02", "a1", {"@timestamp": stamp, "message": "garbage",
                                                       "tags": ["_grokparsefailure"]}, "create")
    report = TrafficReport(Counter(), 0, now)

    verdict = offline.judge(SCENARIOS["error-burst"], 1, True, "127.0.0.1", report, [broken],
                            load_rules(settings.detections), now)

    assert verdict.fired == {"parse-failures": ["query matched"]}
    assert verdict.problems == ["1 line(s) did not parse or were cut: parse-failures would fire"]
