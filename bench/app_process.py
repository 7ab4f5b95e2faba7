"""The sample app under real gunicorn (app/gunicorn.conf.py, production LOGGING) in a scratch directory.

Started as tests/support/app_server.py starts it; bench/ does not import tests/, so the few lines are its own.
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

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = REPO_ROOT / "app"
PACKAGE_SRC = REPO_ROOT / "django-elk-logging" / "src"
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class RunningApp:
    host: str
    port: int
    log_dir: Path
    arbiter: subprocess.Popen
    output_path: Path

    def workers(self) -> list[int]:
        """The pids of the arbiter's live workers, from /proc (their parent pid is the arbiter)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:  # the process ended while we looked
                continue
            # Field 4 of /proc/<pid>/stat, after the parenthesised name (which may hold spaces).
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[1]) == self.arbiter.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def wait_for_workers(self, count: int, timeout: float, excluding: frozenset[int] = frozenset()) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [pid for pid in self.workers() if pid not in excluding]
            if len(pids) >= count:
                return pids
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not have {count} workers within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(workdir: Path, port: int, workers: int) -> dict[str, str]:
    """The environment the container gives the app (docker-compose.yml), rooted in ``workdir``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SENTRY_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_LOG_DIR=str(workdir / "log"),
        DJANGO_SQLITE_PATH=str(workdir / "db.sqlite3"),
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        PYTHONUNBUFFERED="1",
        # The logging package from this checkout, whether or not the venv installed it.
        PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_SRC), os.environ.get("PYTHONPATH")])),
    )
    return env


@contextmanager
def gunicorn_app(workdir: Path, workers: int = 2):
    """Migrate, start gunicorn with the app's config, wait until /healthz answers; stop it gracefully after."""
    for folder in ("log", "static"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = app_environment(workdir, port, workers)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    if migrate.returncode != 0:
        raise RuntimeError(f"manage.py migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
    output_path = workdir / "gunicorn.out"
    with open(output_path, "wb") as output:
        arbiter = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "config.wsgi"],
            cwd=APP_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    app = RunningApp("127.0.0.1", port, workdir / "log", arbiter, output_path)
    try:
        _wait_until_healthy(app)
        app.wait_for_workers(workers, READY_TIMEOUT_SECONDS)
        yield app
    finally:
        _stop(arbiter)


def _wait_until_healthy(app: RunningApp) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if app.arbiter.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {app.arbiter.returncode}:\n{app.output()}")
        try:
            with urllib.request.urlopen(f"http://{app.host}:{app.port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {READY_TIMEOUT_SECONDS} s:\n{app.output()}")


def _stop(arbiter: subprocess.Popen) -> None:
    """SIGTERM: gunicorn's graceful stop, so every worker writes the access lines of what it answered."""
    if arbiter.poll() is not None:
        return
    os.killpg(arbiter.pid, signal.SIGTERM)
    try:
        arbiter.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(arbiter.pid, signal.SIGKILL)
        arbiter.wait(timeout=5)
        raise RuntimeError(f"gunicorn did not stop within {STOP_TIMEOUT_SECONDS} s of SIGTERM and was killed") from None
