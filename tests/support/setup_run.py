"""Running setup (python -m provision) against the fake Elasticsearch and Kibana, as the setup tests do."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support.fake_elastic import FakeElasticStack, RecordedRequest
from tests.support.paths import SETUP_DIR

RUN_TIMEOUT_SECONDS = 60


def setup_environment(stack: FakeElasticStack, assets: Path, passwords: dict[str, str], **overrides: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "ELASTICSEARCH_URL": stack.elasticsearch_url,
        "KIBANA_URL": stack.kibana_url,
        "ASSETS_DIR": str(assets),
        "LOG_RETENTION_DAYS": "14",
        "SETUP_TIMEOUT_SECONDS": "20",
        "SETUP_REQUEST_TIMEOUT_SECONDS": "5",
        "SETUP_RETRY_INTERVAL_SECONDS": "0.05",
        **passwords,
        **overrides,
    }


def assert_no_password_printed(env: dict[str, str], output: str) -> None:
    for name, value in env.items():
        if name.endswith("_PASSWORD") and len(value) >= 12:
            assert value not in output, f"{name} was printed"


def run_setup(stack: FakeElasticStack, assets: Path, passwords: dict[str, str], **overrides: str) -> subprocess.CompletedProcess:
    env = setup_environment(stack, assets, passwords, **overrides)
    result = subprocess.run(
        [sys.executable, "-m", "provision"], cwd=SETUP_DIR, env=env, capture_output=True, text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert_no_password_printed(env, result.stdout + result.stderr)
    return result


def writes(requests: list[RecordedRequest]) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in requests if request.is_write]


def step_lines(stdout: str) -> dict[str, str]:
    outcomes = {}
    for line in stdout.splitlines():
        step, _, outcome = line.rpartition(": ")
        if outcome in ("created", "updated", "unchanged"):
            outcomes[step] = outcome
    return outcomes
