"""Real gunicorn serving the sample app on a loopback port, for the benchmarks and the process-level tests.

Started as the container starts it (app/docker-entrypoint.sh): the app's environment, migrate, then gunicorn
with app/gunicorn.conf.py. tests/support/app_server.py builds on this; nothing here imports tests/.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_DIR = REPO_ROOT / "app"
PACKAGE_SRC = REPO_ROOT / "django-elk-logging" / "src"
VENV_BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 30


class GunicornError(AssertionError):
    """gunicorn exited, never answered or would not stop (an AssertionError: tests report it as a failure)."""


@dataclass
class RunningApp:
    base_url: str
    log_dir: Path
    process: subprocess.Popen
    output_path: Path

    @property
    def host(self) -> str:
        return self.base_url.removeprefix("http://").rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def workers(self) -> list[int]:
        """The pids of the arbiter's live workers: its children, from /proc."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return sorted(int(pid) for pid in children)

    def wait_for_workers(self, count: int, timeout: float, excluding: frozenset[int] = frozenset()) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [pid for pid in self.workers() if pid not in excluding]
            if len(pids) >= count:
                return pids
            time.sleep(0.1)
        raise GunicornError(f"gunicorn did not have {count} workers within {timeout} s:\n{self.output()}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(workdir: Path, **overrides: str) -> dict[str, str]:
    """The environment the container would give the app, rooted in ``workdir``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SENTRY_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_LOG_DIR=str(workdir / "log"),
        DJANGO_SQLITE_PATH=str(workdir / "db.sqlite3"),
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_SECURE_COOKIES="false",
        PYTHONUNBUFFERED="1",
        # The logging package from this checkout, whether or not the venv installed it.
        PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_SRC), os.environ.get("PYTHONPATH")])),
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def migrate(env: dict[str, str]) -> None:
    result = manage(env, "migrate", "--noinput")
    if result.returncode != 0:
        raise GunicornError(f"manage.py migrate failed:\n{result.stdout}\n{result.stderr}")


@contextmanager
def serving(
    cwd: Path,
    arguments: list[str],
    env: dict[str, str],
    port: int,
    workdir: Path,
    log_dir: Path,
    ready_path: str | None = "/healthz",
    output_name: str = "gunicorn.out",
):
    """gunicorn with ``arguments`` in ``cwd``, until ``ready_path`` answers 200; stopped gracefully after.

    With ``ready_path`` None it returns as soon as gunicorn runs: no request reaches a worker first.
    """
    output_path = workdir / output_name
    with open(output_path, "wb") as output:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), *arguments],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = RunningApp(f"http://127.0.0.1:{port}", log_dir, process, output_path)
    try:
        if ready_path is not None:
            _wait_until_healthy(app, ready_path)
        yield app
    finally:
        _stop(process)


@contextmanager
def serve_app(workdir: Path, env: dict[str, str], workers: int = 2, config: str = "gunicorn.conf.py",
              ready_path: str | None = "/healthz"):
    """gunicorn serving the app with ``env`` (app_environment's) on a free loopback port, logs under workdir/log."""
    for folder in ("log", "static"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    arguments = ["--config", config, "config.wsgi"]
    with serving(APP_DIR, arguments, env, port, workdir, workdir / "log", ready_path=ready_path) as app:
        yield app


def _wait_until_healthy(app: RunningApp, ready_path: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise GunicornError(f"gunicorn exited with {app.process.returncode}:\n{app.output()}")
        try:
            with urllib.request.urlopen(app.base_url + ready_path, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise GunicornError(f"gunicorn did not answer {ready_path} within {READY_TIMEOUT_SECONDS}s:\n{app.output()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
            # A test that reads the logs after the app stopped needs a graceful stop.
            raise GunicornError("gunicorn did not stop within 15 s of SIGTERM and was killed") from None
