"""The sample app under real gunicorn with its production config (app/gunicorn.conf.py), all its workers up."""

from contextlib import contextmanager
from pathlib import Path

from bench.gunicorn_runner import app_environment, migrate, serve_app

READY_TIMEOUT_SECONDS = 60


@contextmanager
def gunicorn_app(workdir: Path, workers: int = 2):
    """Migrate, start gunicorn with the app's config, wait for /healthz and every worker; stop it gracefully after."""
    (workdir / "log").mkdir(parents=True, exist_ok=True)
    env = app_environment(workdir)
    migrate(env)
    with serve_app(workdir, env, workers) as app:
        app.wait_for_workers(workers, READY_TIMEOUT_SECONDS)
        yield app
