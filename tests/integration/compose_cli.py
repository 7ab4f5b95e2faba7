"""`docker compose` for the live tests, run as make runs it: from the repository, with this environment, so
Compose reads COMPOSE_FILE (the running profile's files) from it, else from .env."""

import shutil
import subprocess

import pytest

from tests.support.paths import REPO_ROOT

COMPOSE_TIMEOUT_SECONDS = 60


class ComposeError(Exception):
    """`docker compose` could not run or finish: the message says which command and why."""


def run_compose(*args: str, timeout_seconds: float = COMPOSE_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
    docker = shutil.which("docker")
    if docker is None:
        raise ComposeError(f"docker is not on PATH, so `docker compose {' '.join(args)}` cannot run.")
    try:
        return subprocess.run(
            [docker, "compose", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_seconds,
        )
    except subprocess.TimeoutExpired:
        raise ComposeError(f"`docker compose {' '.join(args)}` did not finish within {timeout_seconds} s.") from None
    except OSError as error:
        raise ComposeError(f"cannot run {docker}: {error}") from None


def compose_result(*args: str, timeout_seconds: float = COMPOSE_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
    """What it did, whatever its exit status; the test fails when it cannot run or finish."""
    try:
        return run_compose(*args, timeout_seconds=timeout_seconds)
    except ComposeError as error:
        pytest.fail(str(error))


def compose_output(*args: str, timeout_seconds: float = COMPOSE_TIMEOUT_SECONDS) -> str:
    """Its standard output; the test fails with Compose's own message when it exits non-zero."""
    result = compose_result(*args, timeout_seconds=timeout_seconds)
    if result.returncode != 0:
        pytest.fail(f"`docker compose {' '.join(args)}` exited with {result.returncode}:\n{result.stderr.strip()}")
    return result.stdout
