"""The tutorial-format Django project (tests/tutorial_project) under real gunicorn, as its team would run it."""

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tests.support.app_server import free_port, serving
from tests.support.paths import TUTORIAL_PROJECT_DIR

USERNAME = "alice"
PASSWORD = "Tutorial-Horse-Battery-42"
LOG_FILE = "django_debug.log"


def tutorial_environment(workdir: Path, time_zone: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TUTORIAL_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tutorial_site.settings",
        TUTORIAL_SECRET_KEY=secrets.token_urlsafe(50),
        TUTORIAL_LOG_DIR=str(workdir / "log"),
        TUTORIAL_SQLITE_PATH=str(workdir / "db.sqlite3"),
        TUTORIAL_TIME_ZONE=time_zone,
        PYTHONUNBUFFERED="1",
    )
    return env


def prepare(workdir: Path, time_zone: str) -> None:
    """``migrate``, then the user with Django's own ``createsuperuser --noinput`` (password from the environment)."""
    (workdir / "log").mkdir(parents=True, exist_ok=True)
    env = tutorial_environment(workdir, time_zone)
    user = {"DJANGO_SUPERUSER_USERNAME": USERNAME, "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "DJANGO_SUPERUSER_EMAIL": "alice@example.com"}
    for command, extra in ((("migrate", "--noinput"), {}), (("createsuperuser", "--noinput"), user)):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=TUTORIAL_PROJECT_DIR,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"


@contextmanager
def running_tutorial_project(workdir: Path, time_zone: str, workers: int = 2):
    """gunicorn serving the project, ready once its login form answers (a request that logs nothing)."""
    port = free_port()
    arguments = ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--no-control-socket", "tutorial_site.wsgi"]
    env = tutorial_environment(workdir, time_zone)
    with serving(TUTORIAL_PROJECT_DIR, arguments, env, port, workdir, workdir / "log", "/accounts/login/") as app:
        yield app
