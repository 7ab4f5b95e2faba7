"""The sample app under gunicorn in one logging configuration, started as the container starts it.

A configuration is a settings module (bench/configs/, or the app's own) and a gunicorn config: the app's
gunicorn.conf.py (access line on) or bench/gunicorn_no_access.py (gunicorn's default: no access line).
"""

import os
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.gunicorn_runner import REPO_ROOT, app_environment, migrate, serve_app

PRODUCTION_GUNICORN = "gunicorn.conf.py"
NO_ACCESS_GUNICORN = "python:bench.gunicorn_no_access"


@dataclass(frozen=True)
class Configuration:
    name: str
    settings_module: str
    gunicorn_config: str
    package_src: Path | None = None  # another copy of django_elk_logging, imported before this checkout's
    environment: tuple[tuple[str, str], ...] = ()


CONFIGURATIONS = (
    Configuration("off", "bench.configs.off", NO_ACCESS_GUNICORN),
    Configuration("bare minimum", "bench.configs.bare", NO_ACCESS_GUNICORN),
    Configuration("tutorial", "bench.configs.tutorial", NO_ACCESS_GUNICORN),
    Configuration("ours without access line", "config.settings", NO_ACCESS_GUNICORN),
    Configuration("ours without console", "bench.configs.no_console", PRODUCTION_GUNICORN),
    # The other handler design: ours behind a queue, written by a thread each worker starts after the fork.
    Configuration("ours, queued handlers", "bench.configs.queued", PRODUCTION_GUNICORN),
    Configuration("ours", "config.settings", PRODUCTION_GUNICORN),
)
PRODUCTION = CONFIGURATIONS[-1]


def package_at(revision: str, directory: Path) -> Path:
    """django-elk-logging's source at a git ``revision`` of this repository, extracted under ``directory``."""
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", revision, "django-elk-logging/src"],
                             capture_output=True, check=False, timeout=60)
    if archive.returncode != 0:
        raise SystemExit(f"error: git archive {revision}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True, timeout=60)
    return directory / "django-elk-logging" / "src"


def bench_environment(workdir: Path, database: Path, settings_module: str, **overrides: str) -> dict[str, str]:
    """app_environment with ``settings_module``, bench/ importable and a shared ``database``."""
    env = app_environment(workdir, DJANGO_SETTINGS_MODULE=settings_module, DJANGO_SQLITE_PATH=str(database), **overrides)
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(REPO_ROOT)])
    return env


def prepare_database(workdir: Path) -> Path:
    """One migrated SQLite file for every configuration: the view reads no table, /healthz runs SELECT 1."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "db.sqlite3"
    (workdir / "log").mkdir(exist_ok=True)
    migrate(bench_environment(workdir, database, "config.settings"))
    return database


@contextmanager
def serve(configuration: Configuration, workdir: Path, database: Path, workers: int = 2, ready_path="/healthz",
          **env_overrides: str):
    """gunicorn serving the app in ``configuration``, its logs under ``workdir``/log."""
    env = bench_environment(workdir, database, configuration.settings_module, **dict(configuration.environment),
                            **env_overrides)
    if configuration.package_src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(configuration.package_src), env["PYTHONPATH"]])
    with serve_app(workdir, env, workers, configuration.gunicorn_config, ready_path) as app:
        yield app
