"""Running setup (python -m provision) against the fake Elasticsearch and Kibana, as the setup tests do, and
calling the fakes directly as the elastic user."""

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
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


def basic_auth(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"elastic:{password}".encode()).decode()}


def call(url: str, method: str, body: bytes | None, headers: dict[str, str], password: str) -> tuple[int, dict]:
    """The status and JSON answer of one request to a fake, as the elastic user; an error status answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers={**basic_auth(password), **headers})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def json_call(url: str, method: str, password: str, body: object = None, **headers: str) -> tuple[int, dict]:
    """call() with ``body`` sent as JSON."""
    return call(url, method, None if body is None else json.dumps(body).encode(),
                {"Content-Type": "application/json", **headers}, password)
