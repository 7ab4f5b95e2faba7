"""Real gunicorn serving the sample app on a loopback port, for process-level tests.

The generic parts (environment, migrate, start and stop) live in bench/gunicorn_runner.py, which the
benchmarks share; this adds the demo user the tests log in as.
"""

from contextlib import contextmanager
from pathlib import Path

from bench import gunicorn_runner
from bench.gunicorn_runner import APP_DIR, free_port, manage, serve_app, serving

__all__ = ["APP_DIR", "DEMO_PASSWORD", "DEMO_USERNAME", "app_environment", "free_port", "manage", "running_app",
           "serving"]

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "Correct-Horse-Battery-42"


def app_environment(workdir: Path, **overrides: str) -> dict[str, str]:
    """The environment the container would give the app, rooted in ``workdir``, with the demo user's."""
    return gunicorn_runner.app_environment(
        workdir, **{"DEMO_USERNAME": DEMO_USERNAME, "DEMO_PASSWORD": DEMO_PASSWORD, **overrides}
    )


@contextmanager
def running_app(workdir: Path, workers: int = 2, **env_overrides: str):
    """Migrate, create the demo user, start gunicorn and wait until /healthz answers."""
    (workdir / "log").mkdir(parents=True, exist_ok=True)
    env = app_environment(workdir, **env_overrides)
    for command in (("migrate", "--noinput"), ("create_demo_user",)):
        result = manage(env, *command)
        assert result.returncode == 0, f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    with serve_app(workdir, env, workers) as app:
        yield app
