"""`make run-app` in a copy of the checkout, and the README's traffic command against it, as written."""

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
from pathlib import Path

import pytest

from tests.support.app_server import DEMO_PASSWORD, DEMO_USERNAME, free_port
from tests.support.paths import REPO_ROOT

README_TRAFFIC_COMMAND = re.compile(r"```\n(DJANGO_SECRET_KEY=.*?generate_traffic .*?)\n```", re.S)


@pytest.fixture
def checkout(tmp_path):
    """The Makefile and app/ of this checkout, with .venv pointing at the venv running the tests."""
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copytree(REPO_ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__", "staticfiles"))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    return tmp_path


def user_environment(**extra: str) -> dict[str, str]:
    """A shell's environment: none of the test session's DJANGO_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SENTRY_", "GUNICORN_"))}
    env.update(extra)
    return env


def test_run_app_keeps_the_secret_key_private_and_the_readme_traffic_command_runs(checkout):
    port = free_port()
    env = user_environment(DEMO_USERNAME=DEMO_USERNAME, DEMO_PASSWORD=DEMO_PASSWORD)
    output = open(checkout / "run-app.out", "wb")
    # -o: the venv is the one running these tests, never rebuilt here.
    server = subprocess.Popen(
        ["make", "-o", ".venv/.installed", "run-app"], cwd=checkout, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
    )
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

        assert stat.S_IMODE((checkout / "var" / "secret_key").stat().st_mode) == 0o600

        [command] = README_TRAFFIC_COMMAND.findall((REPO_ROOT / "README.md").read_text())
        command = command.replace("127.0.0.1:8000", f"127.0.0.1:{port}") + " --requests 20 --seed 3"
        traffic = subprocess.run(
            ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True, timeout=120
        )
        assert traffic.returncode == 0, traffic.stderr
        assert re.search(r"^\s+\d+  login_logout -> 302, 403, 302$", traffic.stdout, re.M), traffic.stdout
        assert " failed: " not in traffic.stdout
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        output.close()


def test_run_app_starts_through_the_container_entrypoint_and_repeats_none_of_its_steps():
    recipe = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "run-app"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )

    assert recipe.returncode == 0, recipe.stderr
    assert "exec ./docker-entrypoint.sh gunicorn --config gunicorn.conf.py config.wsgi" in recipe.stdout
    for step in ("migrate", "create_demo_user"):
        assert step not in recipe.stdout, recipe.stdout
        assert step in (REPO_ROOT / "app" / "docker-entrypoint.sh").read_text()
