"""`make run-app` in a copy of the checkout, and the README's traffic command against it, as written.

With a .env, the app gets what its container gets from it through docker-compose.yml's app service (the
environment first), read from gunicorn's own environment in /proc, byte for byte.
"""

import datetime as dt
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from myapp.traffic import Session
from tests.support.app_server import DEMO_PASSWORD, DEMO_USERNAME, free_port
from tests.support.compose import DUMMY_SECRETS, env_with
from tests.support.paths import REPO_ROOT

README_TRAFFIC_COMMAND = re.compile(r"```\n(\.venv/bin/python scripts/run_app_env\.py .*?generate_traffic .*?)\n```", re.S)
# What a shell would run, were the value ever evaluated by one: it would create the file `pwned`.
TRICKY_PASSWORD = r'pa ss $(touch pwned) "q" \x\\ `touch pwned` end'
# Kathmandu is 5:45 ahead of UTC all year: a timestamp written in another zone is hours or minutes off.
ENV_TIME_ZONE, ENV_UTC_OFFSET = "Asia/Kathmandu", dt.timedelta(hours=5, minutes=45)
ASCTIME = re.compile(r"^INFO (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) signals .* User logged in: (\S+)$", re.M)


@pytest.fixture
def checkout(tmp_path):
    """What make run-app reads of this checkout, with .venv pointing at the venv running the tests."""
    for name in ("Makefile", "pyproject.toml", "docker-compose.yml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    for name in ("app", "scripts"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "staticfiles"))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    return tmp_path


def user_environment(**extra: str) -> dict[str, str]:
    """A shell's environment: none of the test session's DJANGO_* settings, nor any the .env of a test sets."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "SENTRY_", "GUNICORN_", "DEMO_", "TIME_ZONE"))}
    env.update(extra)
    return env


def start_run_app(checkout: Path, env: dict[str, str]) -> subprocess.Popen:
    # -o: the venv is the one running these tests, never rebuilt here.
    with open(checkout / "run-app.out", "wb") as output:
        return subprocess.Popen(["make", "-o", ".venv/.installed", "run-app"], cwd=checkout, env=env, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def run_app(checkout: Path, env: dict[str, str]):
    """make run-app on a free port, until /healthz answers; stopped after."""
    port = free_port()
    server = start_run_app(checkout, {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"})
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (checkout / "run-app.out").read_text()
            assert time.monotonic() < deadline, (checkout / "run-app.out").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        yield server, port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def process_environment(pid: int) -> dict[str, str]:
    """A process's environment as the kernel keeps it: what it was started with, byte for byte."""
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode("utf-8").split("=", 1) for entry in entries if entry)


def test_run_app_keeps_the_secret_key_private_and_the_readme_traffic_command_runs(checkout):
    env = user_environment(DEMO_USERNAME=DEMO_USERNAME, DEMO_PASSWORD=DEMO_PASSWORD)
    with run_app(checkout, env) as (_, port):
        assert stat.S_IMODE((checkout / "var" / "secret_key").stat().st_mode) == 0o600

        [command] = README_TRAFFIC_COMMAND.findall((REPO_ROOT / "README.md").read_text())
        command = command.replace("127.0.0.1:8000", f"127.0.0.1:{port}") + " --requests 20 --seed 3"
        traffic = subprocess.run(
            ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True, timeout=120
        )
        assert traffic.returncode == 0, traffic.stderr
        assert re.search(r"^\s+\d+  login_logout -> 302, 403, 302$", traffic.stdout, re.M), traffic.stdout
        assert " failed: " not in traffic.stdout


def test_run_app_starts_through_the_container_entrypoint_and_repeats_none_of_its_steps():
    recipe = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "run-app"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )

    assert recipe.returncode == 0, recipe.stderr
    assert "../scripts/run_app_env.py --quiet ./docker-entrypoint.sh gunicorn --config gunicorn.conf.py config.wsgi" in recipe.stdout
    for step in ("migrate", "create_demo_user"):
        assert step not in recipe.stdout, recipe.stdout
        assert step in (REPO_ROOT / "app" / "docker-entrypoint.sh").read_text()


def test_run_app_gives_the_app_what_its_container_gets_from_env_the_environment_first(checkout):
    values = {**DUMMY_SECRETS, "DEMO_USERNAME": "drill-demo", "DEMO_PASSWORD": f"'{TRICKY_PASSWORD}'",
              "TIME_ZONE": ENV_TIME_ZONE, "GUNICORN_WORKERS": "3", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,app.example"}
    (checkout / ".env").write_text(env_with(values), encoding="utf-8")
    # The environment wins over .env, as with Compose: one worker, not .env's three.
    env = user_environment(GUNICORN_WORKERS="1")

    with run_app(checkout, env) as (server, port):
        [arbiter] = children(server.pid)  # the recipe's shell became gunicorn (exec all the way down)
        app_env = process_environment(arbiter)
        session = Session(f"http://127.0.0.1:{port}/", "run-app-test", 10)
        logged_in = session.login("drill-demo", TRICKY_PASSWORD)
        logged_in_at = dt.datetime.now(dt.timezone.utc)
        workers = children(arbiter)

    assert logged_in == 302, (checkout / "run-app.out").read_text()
    assert app_env["DEMO_USERNAME"] == "drill-demo"
    assert app_env["DEMO_PASSWORD"] == 'pa ss $(touch pwned) "q" \\x\\\\ `touch pwned` end'
    assert app_env["DJANGO_SECRET_KEY"] == DUMMY_SECRETS["DJANGO_SECRET_KEY"]
    assert app_env["TIME_ZONE"] == "Asia/Kathmandu"
    assert app_env["DJANGO_ALLOWED_HOSTS"] == "127.0.0.1,app.example"
    assert (app_env["GUNICORN_WORKERS"], len(workers)) == ("1", 1)
    # docker-compose.yml's defaults for what .env leaves out, and its fixed values.
    assert (app_env["SENTRY_ENVIRONMENT"], app_env["DJANGO_DEBUG"], app_env["DJANGO_SECURE_COOKIES"]) == ("local", "false", "false")
    assert "ELASTIC_PASSWORD" not in app_env  # .env's other settings are not the app's
    # run-app's own places, not the container's.
    assert (app_env["DJANGO_LOG_DIR"], app_env["DJANGO_SQLITE_PATH"]) == (f"{checkout}/var/log", f"{checkout}/var/db.sqlite3")
    assert app_env["GUNICORN_BIND"] == f"127.0.0.1:{port}"
    assert not (checkout / "var" / "secret_key").exists()
    assert not (checkout / "pwned").exists() and not (checkout / "app" / "pwned").exists()
    # The record of the login is written in .env's zone.
    [(asctime, user)] = ASCTIME.findall((checkout / "var" / "log" / "security.log").read_text(encoding="utf-8"))
    written = dt.datetime.strptime(asctime, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=dt.timezone.utc) - ENV_UTC_OFFSET
    assert user == "drill-demo"
    assert abs(written - logged_in_at) < dt.timedelta(seconds=30), (asctime, logged_in_at)
    assert "make run-app: the app container's settings from .env (docker-compose.yml, service app; the environment " \
           "first): TIME_ZONE=Asia/Kathmandu, DEMO_USERNAME=drill-demo" in (checkout / "run-app.out").read_text()


def run_app_refused(checkout: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "run-app"], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_malformed_env_stops_run_app_naming_the_line_before_anything_starts(checkout):
    (checkout / ".env").write_text(f"TIME_ZONE=UTC\n# a comment\nDEMO_PASSWORD {TRICKY_PASSWORD}\n", encoding="utf-8")

    result = run_app_refused(checkout, user_environment())

    assert result.returncode == 2
    assert f"error: make run-app: {checkout}/.env:3: expected VARIABLE=value (the value is not shown)\n" in result.stderr
    assert "pa ss" not in result.stderr + result.stdout
    assert sorted(path.name for path in (checkout / "var").iterdir()) == ["log", "static"]  # no database, no key


def test_a_required_setting_missing_from_env_stops_run_app_with_the_compose_files_message(checkout):
    (checkout / ".env").write_text(env_with({**DUMMY_SECRETS, "DEMO_PASSWORD": ""}), encoding="utf-8")

    result = run_app_refused(checkout, user_environment())

    assert result.returncode == 2
    assert (f"error: make run-app: {checkout}/.env (or the environment) does not give the app container what "
            "docker-compose.yml requires: DEMO_PASSWORD: DEMO_PASSWORD is empty - run make env\n") in result.stderr
