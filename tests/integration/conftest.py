"""Fixtures for the live Docker Compose stack: settings, readiness, and logs on failure.

Settings come from the environment, else from the repository's .env (the file
`make up` used). When the stack's ports do not answer, every test here skips
with one reason line; REQUIRE_LIVE_STACK=1 turns that skip into a failure, for
runs that started the stack themselves and must not pass by skipping.
"""

import os
import socket
import time
from dataclasses import dataclass

import httpx
import pytest
from elasticsearch import ApiError, AuthenticationException, Elasticsearch, TransportError

from drill.settings import DrillError
from tests.integration.compose_cli import ComposeError, run_compose
from tests.integration.http_client import http_client, json_body
from tests.integration.stack_clients import StackSettings, elasticsearch_client, kibana_client
from tests.support.paths import REPO_ROOT

ENV_FILE = REPO_ROOT / ".env"
INDEX_TEMPLATE = "django-logs"
CONNECT_TIMEOUT_SECONDS = 1
READY_TIMEOUT_SECONDS = 180
READY_POLL_SECONDS = 2
COMPOSE_LOGS_ARGS = ("logs", "--no-color", "--tail=200")
COMPOSE_LOGS_TIMEOUT_SECONDS = 60

NOTES = pytest.StashKey[list[str]]()
_LOGS_SHOWN_FOR = pytest.StashKey[BaseException]()
_TRUE_VALUES = {"1", "true", "yes"}
_FALSE_VALUES = {"", "0", "false", "no"}


@dataclass
class LiveStack:
    settings: StackSettings
    required: bool
    es: Elasticsearch
    kibana: httpx.Client
    notes: list[str]

    @property
    def app_url(self) -> str:
        return self.settings.app_url

    @property
    def kibana_url(self) -> str:
        return self.settings.kibana_url

    def app_client(self, user_agent: str) -> httpx.Client:
        return http_client(self.app_url, headers={"User-Agent": user_agent})

    def note(self, line: str) -> None:
        """A measurement or artifact path, printed now and repeated in the terminal summary."""
        print(line)
        self.notes.append(line)


def require_live_stack() -> bool:
    raw = os.environ.get("REQUIRE_LIVE_STACK", "")
    if raw.strip().lower() in _TRUE_VALUES:
        return True
    if raw.strip().lower() in _FALSE_VALUES:
        return False
    pytest.fail(f"REQUIRE_LIVE_STACK={raw!r} is not understood: use 1 to require the live stack, or leave it unset.")


def accepts_tcp(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]


def readiness_problems(stack: LiveStack) -> list[str]:
    """What is not ready yet, in words; empty when the whole stack is."""
    problems = []
    try:
        status = stack.es.cluster.health()["status"]
        if status not in ("yellow", "green"):
            problems.append(f"Elasticsearch cluster health is {status}")
        elif not stack.es.indices.exists_index_template(name=INDEX_TEMPLATE):
            problems.append(f"index template {INDEX_TEMPLATE} does not exist (has the setup service run?)")
    except AuthenticationException:
        # The elastic password is fixed when the data volume is first created.
        pytest.fail(
            "Elasticsearch rejected ELASTIC_PASSWORD (HTTP 401): it differs from the password the cluster "
            "was first started with (check .env; `make clean` deletes the volumes and so resets it)."
        )
    except (ApiError, TransportError) as error:
        problems.append(f"Elasticsearch: {_first_line(error)}")
    try:
        response = stack.kibana.get("/api/status")
        # Core services decide readiness, as setup and the healthcheck do: a degraded plugin
        # still answers 200 with overall "degraded" (Kibana's src/core/.../routes/status.ts).
        core = json_body(response)["status"]["core"] if response.status_code == 200 else {}
        levels = {name: core.get(name, {}).get("level") for name in ("elasticsearch", "savedObjects")}
        if set(levels.values()) != {"available"}:
            problems.append(f"Kibana /api/status: HTTP {response.status_code}, core levels {levels}")
    except (httpx.HTTPError, AssertionError, KeyError, TypeError) as error:
        problems.append(f"Kibana: {_first_line(error)}")
    try:
        with http_client(stack.app_url) as app:
            health = app.get("/healthz")
        if health.status_code != 200:
            problems.append(f"app /healthz: HTTP {health.status_code}")
    except httpx.HTTPError as error:
        problems.append(f"app: {_first_line(error)}")
    return problems


def await_ready(stack: LiveStack, timeout_seconds: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll until the whole stack is ready; fail, saying what is not, after timeout_seconds."""
    deadline = time.monotonic() + timeout_seconds
    while problems := readiness_problems(stack):
        if time.monotonic() >= deadline:
            pytest.fail(
                f"live stack at {stack.settings.host} not ready after {timeout_seconds} s: {'; '.join(problems)}"
            )
        time.sleep(READY_POLL_SECONDS)


@pytest.fixture(scope="session")
def live_stack(request):
    """The running stack, once it answers and is ready; skips (or fails when required) when it is down."""
    required = require_live_stack()
    try:
        settings = StackSettings.load(dict(os.environ), ENV_FILE)
    except DrillError as error:
        pytest.fail(str(error))
    silent = [f"{name} :{port}" for name, port in settings.services() if not accepts_tcp(settings.host, port)]
    if silent:
        reason = (
            f"live stack not reachable at {settings.host} (nothing answers on {', '.join(silent)}): "
            "run `make up` first"
        )
        if required:
            pytest.fail(reason)
        pytest.skip(reason)
    if not settings.elastic_password:
        pytest.fail("ELASTIC_PASSWORD is set neither in the environment nor in .env: the live tests need it.")
    try:
        settings.access.trusted_ca()  # under tls and cluster: var/tls/ca.crt, which make up copies
    except DrillError as error:
        if required:
            pytest.fail(str(error))
        pytest.skip(str(error))

    es = elasticsearch_client(settings)
    kibana = kibana_client(settings)
    stack = LiveStack(settings, required, es, kibana, notes=request.config.stash.setdefault(NOTES, []))
    try:
        await_ready(stack)
        yield stack
    finally:
        kibana.close()
        es.close()


def compose_logs() -> str:
    """The last lines of every service's log, or why they cannot be shown."""
    # Compose reads COMPOSE_FILE (the profile) from this environment, else from .env, so the logs are
    # those of the running profile's services (es01-es03 in the cluster).
    try:
        result = run_compose(*COMPOSE_LOGS_ARGS, timeout_seconds=COMPOSE_LOGS_TIMEOUT_SECONDS)
    except ComposeError as error:
        return str(error)
    if result.returncode != 0:
        return f"`docker compose {' '.join(COMPOSE_LOGS_ARGS)}` exited with {result.returncode}:\n{result.stderr.strip()}"
    return result.stdout


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and item.get_closest_marker("integration") is not None:
        error = call.excinfo.value if call.excinfo is not None else None
        # A failed session fixture fails every test with the same error: show the logs once.
        if error is not None and item.config.stash.get(_LOGS_SHOWN_FOR, None) is error:
            logs = "(same error as an earlier test: its report has the logs)"
        else:
            if error is not None:
                item.config.stash[_LOGS_SHOWN_FOR] = error
            logs = compose_logs()
        report.sections.append((f"docker compose {' '.join(COMPOSE_LOGS_ARGS)}", logs))
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    notes = config.stash.get(NOTES, [])
    if notes:
        terminalreporter.section("live stack: latencies and artifacts")
        for line in notes:
            terminalreporter.write_line(line)
