"""The drill traffic (python -m myapp.drills) against real gunicorn: exactly the records each scenario makes the app
write, read through the pipeline model as Logstash would index them, and its refusals."""

import json
import subprocess
import sys
from datetime import datetime

import pytest

from myapp.traffic import Session
from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_pipeline import Pipeline
from tests.conftest import LogTail
from tests.support.app_server import APP_DIR, app_environment, free_port, running_app
from tests.support.engines import engine_for_tests

ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": "UTC"}
BOOM = "Internal Server Error: /boom/"
BAD_HOST = "Invalid HTTP_HOST header: 'drill.invalid'. You may need to add 'drill.invalid' to ALLOWED_HOSTS."


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("drills")
    with running_app(workdir) as app:
        app.env = app_environment(workdir)
        yield app


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())


def drill(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "myapp.drills", *args], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def documents(pipeline: Pipeline, tail: LogTail, name: str) -> list[dict]:
    """The documents Logstash indexes from what the app appended to ``name`` since the tail's mark."""
    indexed = []
    for event in pipeline.read(tail.log_dir / name, tail.text(name)):
        pipeline.filter(event)
        indexed.append(pipeline.output(event).source)
    return indexed


def security_events(docs: list[dict]) -> list[tuple]:
    """Level, action, user name, source IP, message and tags (a parse failure would be a tag) of each event."""
    return [
        (d["log"]["level"], d["event"]["action"], d.get("user", {}).get("name"), d["source"]["ip"], d["message"],
         d.get("tags", []))
        for d in docs
    ]


def run_scenario(app, pipeline, *args: str) -> tuple[dict, list[tuple], list[dict]]:
    """The summary, the security events and the django_debug.log documents of one drill run."""
    tail = LogTail(app.log_dir)
    result = drill(app.env, *args, "--base-url", app.base_url)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    summary = json.loads(result.stdout)
    assert datetime.fromisoformat(summary.pop("started_at")) <= datetime.fromisoformat(summary.pop("ended_at"))
    security = documents(pipeline, tail, "security.log")
    return summary, security_events(security), documents(pipeline, tail, "django_debug.log")


def test_brute_force_is_failed_logins_for_one_user_name_from_the_bound_address(app, pipeline):
    summary, events, app_docs = run_scenario(
        app, pipeline, "brute-force", "--failures", "3", "--source-address", "127.0.0.77"
    )

    failure = ("WARNING", "user_login_failed", "drill-admin", "127.0.0.77", "Login failed: drill-admin", [])
    assert events == [failure] * 3
    assert app_docs == []
    assert summary == {
        "scenario": "brute-force",
        "base_url": app.base_url + "/",
        "source_address": "127.0.0.77",
        "size": {"failures": 3},
        "requests": 4,
        "responses": {"GET /accounts/login/": {"200": 1}, "POST /accounts/login/": {"200": 3}},
        "expected_security_events": {"user_login_failed": 3},
        "expected_error_records": 0,
    }


def test_brute_force_account_is_failed_logins_for_the_source_addresss_own_user_name(app, pipeline):
    summary, events, _ = run_scenario(
        app, pipeline, "brute-force-account", "--failures", "2", "--source-address", "127.0.0.79"
    )

    name = "drill-account-127-0-0-79"
    assert events == [("WARNING", "user_login_failed", name, "127.0.0.79", f"Login failed: {name}", [])] * 2
    assert (summary["requests"], summary["expected_security_events"]) == (3, {"user_login_failed": 2})


def test_credential_stuffing_is_one_failed_login_for_each_user_name(app, pipeline):
    summary, events, app_docs = run_scenario(
        app, pipeline, "credential-stuffing", "--users", "3", "--source-address", "127.1.2.3"
    )

    assert events == [
        ("WARNING", "user_login_failed", f"drill-user-000{n}", "127.1.2.3", f"Login failed: drill-user-000{n}", [])
        for n in (1, 2, 3)
    ]
    assert app_docs == []
    assert summary["responses"] == {"GET /accounts/login/": {"200": 1}, "POST /accounts/login/": {"200": 3}}
    assert summary["expected_security_events"] == {"user_login_failed": 3}


def test_brute_force_success_is_failed_logins_then_the_real_login_of_the_demo_user(app, pipeline):
    summary, events, app_docs = run_scenario(
        app, pipeline, "brute-force-success", "--failures", "2", "--source-address", "127.0.0.78"
    )

    failure = ("WARNING", "user_login_failed", "demo", "127.0.0.78", "Login failed: demo", [])
    assert events == [failure, failure, ("INFO", "user_logged_in", "demo", "127.0.0.78", "User logged in: demo", [])]
    assert app_docs == []
    assert summary["responses"] == {"GET /accounts/login/": {"200": 1}, "POST /accounts/login/": {"200": 2, "302": 1}}
    assert summary["expected_security_events"] == {"user_login_failed": 2, "user_logged_in": 1}


def test_suspicious_requests_are_each_one_suspicious_event_bad_hosts_at_error(app, pipeline):
    summary, events, app_docs = run_scenario(
        app, pipeline, "suspicious", "--requests", "5", "--source-address", "127.0.0.79"
    )

    # The traceback's lines make the multiline codec tag the event (logstash-codec-multiline's default tag).
    bad_host = ("ERROR", "disallowed_host", None, "127.0.0.79", BAD_HOST, ["multiline"])
    csrf = ("WARNING", "csrf_failure", None, "127.0.0.79", "Forbidden (CSRF cookie not set.): /accounts/login/", [])
    bad_id = (
        "WARNING", "malformed_request_id", None, "127.0.0.79", "Rejected malformed X-Request-ID header: drill malformed id",
        [],
    )
    assert events == [bad_host, csrf, bad_id, bad_host, csrf]
    assert app_docs == []
    assert summary["responses"] == {"GET /healthz": {"400": 2, "200": 1}, "POST /accounts/login/": {"403": 2}}
    assert summary["expected_security_events"] == {"disallowed_host": 2, "csrf_failure": 2, "malformed_request_id": 1}
    assert summary["expected_error_records"] == 2


def test_error_burst_is_one_error_record_with_its_traceback_per_request(app, pipeline):
    summary, events, app_docs = run_scenario(
        app, pipeline, "error-burst", "--requests", "4", "--source-address", "127.0.0.80"
    )

    assert events == []
    assert [(d["log"]["level"], d["message"]) for d in app_docs] == [("ERROR", BOOM)] * 4
    assert all(d["error"]["stack_trace"].endswith("RuntimeError: Boom: this view fails on purpose") for d in app_docs)
    assert summary["responses"] == {"GET /boom/": {"500": 4}}
    assert (summary["expected_security_events"], summary["expected_error_records"]) == ({}, 4)


def test_without_a_source_address_the_system_picks_the_client_address(app, pipeline):
    summary, events, _ = run_scenario(app, pipeline, "brute-force", "--failures", "1")

    assert summary["source_address"] is None
    assert events == [("WARNING", "user_login_failed", "drill-admin", "127.0.0.1", "Login failed: drill-admin", [])]


def test_a_wrong_demo_password_stops_the_drill_after_the_failed_real_login(app, pipeline):
    tail = LogTail(app.log_dir)
    result = drill({**app.env, "DEMO_PASSWORD": "not-the-password"}, "brute-force-success", "--failures", "1",
                   "--base-url", app.base_url, "--source-address", "127.0.0.81")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"drill brute-force-success: POST {app.base_url}/accounts/login/ answered 200, expected 302 (the login as "
        "DEMO_USERNAME='demo' with DEMO_PASSWORD must succeed: does that user exist in this app, with that password?)\n"
    )
    failure = ("WARNING", "user_login_failed", "demo", "127.0.0.81", "Login failed: demo", [])
    assert security_events(documents(pipeline, tail, "security.log")) == [failure, failure]


def test_the_time_limit_stops_the_drill_with_exit_status_3(app):
    # 1000 failed logins take minutes (each hashes a password); half a second lets a few through.
    result = drill(app.env, "brute-force", "--failures", "1000", "--max-seconds", "0.5", "--base-url", app.base_url)

    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.startswith("drill brute-force: --max-seconds=0.5 ran out after ")
    assert result.stderr.endswith(" requests; nothing more was sent (lower the size or raise --max-seconds)\n")


def test_an_unreachable_app_is_exit_status_1_with_the_reason(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = drill(app_environment(tmp_path), "error-burst", "--requests", "1", "--base-url", url)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"drill error-burst: GET {url}/boom/: no answer: [Errno 111] Connection refused\n"
    )


def test_a_source_address_of_the_other_ip_version_is_refused(tmp_path):
    result = drill(
        app_environment(tmp_path), "brute-force", "--failures", "1", "--base-url", "http://127.0.0.1/",
        "--source-address", "::1",
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        "python -m myapp.drills: error: --source-address ::1 cannot reach 127.0.0.1: not the same IP version"
    )


def test_an_unset_demo_password_is_refused_before_any_request(app):
    tail = LogTail(app.log_dir)
    env = {key: value for key, value in app.env.items() if key != "DEMO_PASSWORD"}
    result = drill(env, "brute-force-success", "--failures", "1", "--base-url", app.base_url)

    assert result.returncode == 2
    assert result.stderr.endswith(
        "error: brute-force-success logs in as the demo user: set DEMO_PASSWORD in the environment\n"
    )
    assert (tail.text("security.log"), tail.text("django_debug.log")) == ("", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "http://192.0.2.1:8000/"],
         "argument --base-url: 'http://192.0.2.1:8000/' is not on loopback: only localhost, 127.0.0.0/8 and ::1 "
         "are drilled"),
        (["--base-url", "http://example.com/"],
         "argument --base-url: 'http://example.com/' is not on loopback: only localhost, 127.0.0.0/8 and ::1 "
         "are drilled"),
        (["--base-url", "https://127.0.0.1/"],
         "argument --base-url: 'https://127.0.0.1/' is not an http:// URL (the app serves plain HTTP on loopback)"),
        (["--base-url", "http://127.0.0.1:8000/admin/"],
         "argument --base-url: 'http://127.0.0.1:8000/admin/' must be only http://host[:port]/, with no path, "
         "query or user"),
        (["--base-url", "http://127.0.0.1:99999/"],
         "argument --base-url: 'http://127.0.0.1:99999/' has a bad port: Port out of range 0-65535"),
        (["--base-url", "http://127.0.0.1/", "--source-address", "10.0.0.5"],
         "argument --source-address: '10.0.0.5' is not a loopback address (127.0.0.0/8 or ::1)"),
        (["--base-url", "http://127.0.0.1/", "--failures", "0"],
         "argument --failures: 0 is out of range: expected 1 to 1000"),
        (["--base-url", "http://127.0.0.1/", "--failures", "1001"],
         "argument --failures: 1001 is out of range: expected 1 to 1000"),
        (["--base-url", "http://127.0.0.1/", "--failures", "ten"],
         "argument --failures: 'ten' is not a whole number"),
        (["--base-url", "http://127.0.0.1/", "--max-seconds", "601"],
         "argument --max-seconds: 601 is out of range: expected more than 0, at most 600"),
        (["--base-url", "http://127.0.0.1/", "--timeout", "nan"],
         "argument --timeout: nan is out of range: expected more than 0, at most 60"),
    ],
)
def test_bad_arguments_are_refused_with_exit_status_2(args, message, tmp_path):
    size = [] if "--failures" in args else ["--failures", "1"]
    result = drill(app_environment(tmp_path), "brute-force", *args, *size)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == f"python -m myapp.drills brute-force: error: {message}"


@pytest.mark.parametrize(
    ("scenario", "option"),
    [("credential-stuffing", "--users"), ("suspicious", "--requests"), ("error-burst", "--requests")],
)
def test_every_scenario_caps_its_size(scenario, option, tmp_path):
    result = drill(app_environment(tmp_path), scenario, "--base-url", "http://127.0.0.1/", option, "1001")

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"python -m myapp.drills {scenario}: error: argument {option}: 1001 is out of range: expected 1 to 1000"
    )


def test_a_session_binds_only_plain_http():
    with pytest.raises(ValueError, match=r"^A source address needs an http:// base URL, not 'https://127\.0\.0\.1/'\.$"):
        Session("https://127.0.0.1/", "drill-test", timeout=1, source_address="127.0.0.5")
