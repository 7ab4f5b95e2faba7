"""The sample app under real gunicorn with its production config (app/gunicorn.conf.py), all its workers up."""

from contextlib import contextmanager
from pathlib import Path

from bench.gunicorn_runner import APP_DIR, app_environment, free_port, migrate, serving

READY_TIMEOUT_SECONDS = 60


@contextmanager
def gunicorn_app(workdir: Path, workers: int = 2):
    """Migrate, start gunicorn with the app's config, wait for /healthz and every worker; stop it gracefully after."""
    for folder in ("log", "static"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = app_environment(workdir, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers))
    migrate(env)
    with serving(APP_DIR, ["--config", "gunicorn.conf.py", "config.wsgi"], env, port, workdir, workdir / "log") as app:
        app.wait_for_workers(workers, READY_TIMEOUT_SECONDS)
        yield app
