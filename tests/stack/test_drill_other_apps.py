"""The offline drill pointed at an app it cannot judge stops with exit 2 and says what it needs, never a FAIL.

Real apps on loopback: the sample app under gunicorn (logging elsewhere, another zone, no such demo user), the
tutorial-format Django project under gunicorn (Django's LoginView, /boom/, no django_elk_logging), a plain
`python -m http.server`, and a port nothing listens on. make drill passes BASE_URL and LOG_DIR through, and
with them drills another app for real when it has what the scenario needs.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.app_server import free_port, running_app
from tests.support.drills import command_env, drill_command
from tests.support.paths import REPO_ROOT
from tests.support.tutorial_project import PASSWORD, USERNAME, prepare, running_tutorial_project

FILES = "django_debug.log, security.log, access.log"
CONTEXT = "with django_elk_logging's request context (request_id=, and client_ip= on security events)."
LOGIN_NEEDS = "/accounts/login/ served by Django's LoginView (a failed login shows the form again)"


def needs(scenario: str, what: str, log_dir: Path) -> str:
    return (f"The offline drill needs the sample app (make run-app) or an app that answers like it (for {scenario}: "
            f"{what}) and writes its records into {log_dir} ({FILES}) {CONTEXT}")


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("sample-app")) as app:
        yield app


@pytest.fixture(scope="module")
def tutorial_app(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tutorial-project")
    prepare(workdir, "UTC")
    with running_tutorial_project(workdir, "UTC") as app:
        yield app


@contextmanager
def plain_http_server(workdir: Path):
    """`python -m http.server` on a free loopback port, serving an empty folder."""
    port = free_port()
    (workdir / "site").mkdir()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                               str(workdir / "site"), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None and time.monotonic() < deadline, "http.server did not start"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def offline_drill(tmp_path: Path, scenario: str, base_url: str, log_dir: Path, **values: str):
    """python -m drill SCENARIO --offline against base_url and log_dir, with ``values`` in its .env."""
    env = command_env(tmp_path, **values)
    log = tmp_path / "drills.tsv"
    result = drill_command(scenario, "--offline", "--base-url", base_url, "--log-dir", str(log_dir), "--drill-log",
                           str(log), "--env-file", str(tmp_path / ".env"), env=env)
    return result, log


def refusal(result: subprocess.CompletedProcess, scenario: str) -> str:
    """The one-line reason a drill could not run, from its exit 2."""
    assert (result.returncode, result.stdout) == (2, ""), result.stdout + result.stderr
    prefix = f"error: drill {scenario} could not run: "
    assert result.stderr.startswith(prefix) and result.stderr.endswith("\n"), result.stderr
    return result.stderr.removeprefix(prefix).removesuffix("\n")


# --- another Django project, without our logging package -----------------------------------------------------


def test_failed_logins_on_a_project_that_does_not_log_them_cannot_be_drilled(tutorial_app, tmp_path):
    result, log = offline_drill(tmp_path, "brute-force", tutorial_app.base_url, tutorial_app.log_dir,
                                BRUTE_FORCE_FAILURES="2")

    assert refusal(result, "brute-force") == (
        f"the app at {tutorial_app.base_url} answered the drill's 4 requests as the sample app does, but wrote nothing "
        f"to {tutorial_app.log_dir} while the drill ran: that folder is not where this app writes its logs (make run-app "
        "writes var/log; LOG_DIR= names another), or this app logs nothing for these requests (the sample app's "
        "security events come from django_elk_logging). "
        + needs("brute-force", LOGIN_NEEDS, tutorial_app.log_dir)
    )
    assert not log.exists()


def test_records_without_the_packages_request_context_cannot_be_drilled(tutorial_app, tmp_path):
    # The tutorial's receiver logs "User logged in: alice": a security event, with no client address.
    result, log = offline_drill(tmp_path, "brute-force-success", tutorial_app.base_url, tutorial_app.log_dir,
                                BRUTE_FORCE_FAILURES="2", DEMO_USERNAME=USERNAME, DEMO_PASSWORD=PASSWORD)

    assert refusal(result, "brute-force-success") == (
        f"the app at {tutorial_app.base_url} wrote 1 record(s) to {tutorial_app.log_dir} during the drill, and none "
        "carries django_elk_logging's request context (request_id=, and client_ip= on security events): the rules "
        "count the drill's security events by client address (source.ip), which only that context gives. The app's "
        "LOGGING lacks the package's request-context filter, which elk_logging() of django_elk_logging.logging_settings "
        'adds (django-elk-logging/README.md, "Switch it on"). '
        + needs("brute-force-success", f"{LOGIN_NEEDS}, and the user DEMO_USERNAME with the password DEMO_PASSWORD",
                tutorial_app.log_dir)
    )
    assert not log.exists()


def test_a_route_the_app_lacks_is_named_with_its_answer_and_the_one_expected(tutorial_app, tmp_path):
    # Bad Host (400: Django refuses it before any route), no CSRF cookie (403), then /healthz, which it has not.
    result, log = offline_drill(tmp_path, "suspicious", tutorial_app.base_url, tutorial_app.log_dir,
                                SUSPICIOUS_REQUESTS_THRESHOLD="2")

    assert refusal(result, "suspicious") == (
        f"the app at {tutorial_app.base_url} did not answer as the drill needs: GET {tutorial_app.base_url}/healthz "
        "answered 404, expected 200 (the sample app's health check, which replaces a malformed X-Request-ID). "
        + needs("suspicious", "/healthz answering 200 and logging nothing of its own, Django's CSRF check on a POST to "
                "/accounts/login/, and django_elk_logging's RequestIdMiddleware", tutorial_app.log_dir)
    )
    assert not log.exists()


def test_make_drill_drills_another_app_through_base_url_and_log_dir_when_it_has_what_the_scenario_needs(
    tutorial_app, tmp_path
):
    """The error burst needs /boom/ and ERROR records, which the tutorial project has: a real PASS."""
    log = tmp_path / "drills.tsv"
    # The environment wins over any .env of this checkout; the venv is the one running the tests.
    env = {**{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DEMO_"))},
           "ERROR_BURST_THRESHOLD": "3", "ERROR_BURST_WINDOW_MINUTES": "5", "TIME_ZONE": "UTC"}

    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "drill", "SCENARIO=error-burst", "OFFLINE=1",
         f"BASE_URL={tutorial_app.base_url}/", f"LOG_DIR={tutorial_app.log_dir}", f"DRILL_LOG={log}",
         f"VENV_PYTHON={sys.executable}"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )

    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    assert f"--base-url '{tutorial_app.base_url}/' --log-dir '{tutorial_app.log_dir}'" in result.stdout
    assert "PASS: drill error-burst, offline: offline, size 4: error-burst would fire" in result.stdout
    assert log.read_text().splitlines()[1].split("\t")[1:4] == ["error-burst", "offline", "PASS"]


# --- not Django at all, nothing at all ----------------------------------------------------------------------


def test_a_server_that_is_not_a_django_app_is_named_with_its_answer(tmp_path):
    with plain_http_server(tmp_path) as base_url:
        result, log = offline_drill(tmp_path, "brute-force", base_url, tmp_path, BRUTE_FORCE_FAILURES="2")

    assert refusal(result, "brute-force") == (
        f"the app at {base_url} did not answer as the drill needs: GET {base_url}/accounts/login/ answered 404, "
        f"expected 200 (the login form of Django's LoginView). " + needs("brute-force", LOGIN_NEEDS, tmp_path)
    )
    assert not log.exists()


def test_nothing_listening_is_named_with_the_url(tmp_path):
    base_url = f"http://127.0.0.1:{free_port()}"

    result, log = offline_drill(tmp_path, "error-burst", base_url, tmp_path, ERROR_BURST_THRESHOLD="2")

    assert refusal(result, "error-burst") == (
        f"the app at {base_url} did not answer as the drill needs: GET {base_url}/boom/: no answer: [Errno 111] "
        "Connection refused. " + needs("error-burst", "/boom/ answering 500 with one ERROR record", tmp_path)
    )
    assert not log.exists()


# --- the sample app, set up otherwise than the drill ---------------------------------------------------------


def test_the_sample_app_logging_elsewhere_cannot_be_drilled(sample_app, tmp_path):
    (tmp_path / "elsewhere").mkdir()

    result, log = offline_drill(tmp_path, "error-burst", sample_app.base_url, tmp_path / "elsewhere",
                                ERROR_BURST_THRESHOLD="2")

    assert refusal(result, "error-burst").startswith(
        f"the app at {sample_app.base_url} answered the drill's 3 requests as the sample app does, but wrote nothing "
        f"to {tmp_path / 'elsewhere'} while the drill ran: that folder is not where this app writes its logs"
    )
    assert not log.exists()


def test_a_demo_user_the_app_does_not_have_is_named(sample_app, tmp_path):
    result, log = offline_drill(tmp_path, "brute-force-success", sample_app.base_url, sample_app.log_dir,
                                BRUTE_FORCE_FAILURES="1", DEMO_USERNAME="nobody", DEMO_PASSWORD="Not-The-Password-42")

    assert refusal(result, "brute-force-success").startswith(
        f"the app at {sample_app.base_url} did not answer as the drill needs: POST {sample_app.base_url}/accounts/login/ "
        "answered 200, expected 302 (the login as DEMO_USERNAME='nobody' with DEMO_PASSWORD must succeed: does that "
        "user exist in this app, with that password?). The offline drill needs the sample app (make run-app)"
    )
    assert "Not-The-Password-42" not in result.stderr
    assert not log.exists()


def test_an_app_writing_in_another_zone_than_the_drill_reads_is_told_from_the_lines(sample_app, tmp_path):
    # The app writes UTC; the drill reads Kathmandu time (UTC+05:45): every record is 5 h 45 min early.
    result, log = offline_drill(tmp_path, "brute-force", sample_app.base_url, sample_app.log_dir,
                                BRUTE_FORCE_FAILURES="2", TIME_ZONE="Asia/Kathmandu")

    assert refusal(result, "brute-force") == (
        "3 record(s) the app wrote during the drill are stamped 5 h 45 min behind the drill's clock when read in "
        "TIME_ZONE=Asia/Kathmandu, as the drill and the pipeline read them: the app writes its timestamps in another "
        "zone (they look written at UTC+00:00). The app and the drill must use the same TIME_ZONE; make run-app and "
        "make drill both take it from the environment first, then .env: restart make run-app after changing it in "
        ".env, or give the drill the app's zone (TIME_ZONE=... make drill ...)."
    )
    assert not log.exists()


# --- live: BASE_URL and LOG_DIR have no meaning ---------------------------------------------------------------


def test_base_url_and_log_dir_are_refused_live_before_docker_is_needed(tmp_path):
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "drill", "SCENARIO=brute-force",
         "BASE_URL=http://127.0.0.1:8001/", f"VENV_PYTHON={sys.executable}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    direct = drill_command("brute-force", "--log-dir", str(tmp_path), env=command_env(tmp_path))

    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "error: BASE_URL and LOG_DIR apply to an offline drill only (OFFLINE=1): a live drill sends its traffic inside "
        "the sample app's container and the stack reads that app's logs"
    )
    assert direct.returncode == 2
    assert direct.stderr.splitlines()[-1] == (
        "make drill: error: --base-url and --log-dir (make drill's BASE_URL and LOG_DIR) apply to an offline drill "
        "only: live, the traffic goes to the sample app inside its container and the stack reads its logs"
    )
