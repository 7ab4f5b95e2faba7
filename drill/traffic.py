"""Runs the app's drill traffic generator (app/myapp/drills.py): on this machine against `make run-app`,
or inside the app container, where the traffic stays on the container's loopback."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from drill.scenarios import Scenario
from drill.settings import REPO_ROOT, DrillError
from myapp import drills as generator

APP_DIR = REPO_ROOT / "app"
GENERATOR = ("-m", "myapp.drills")
# The generator's own bound on a run, which a drill asks for: a failed login costs about 0.3 s of password
# hashing, so a thousand of them fit.
GENERATOR_MAX_SECONDS = int(generator.MAX_SECONDS)
# Only guards against a hung process: the generator stops starting requests at its limit.
PROCESS_TIMEOUT_SECONDS = GENERATOR_MAX_SECONDS + 60


class GeneratorFailed(DrillError):
    """The generator stopped: ``status`` is its exit status, ``detail`` what it said."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"the traffic generator failed: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class TrafficReport:
    """The generator's summary of what it sent and what the app logs for it."""

    expected_security_events: Counter[str]  # event.action -> documents from the drill's address
    expected_error_records: int
    ended_at: dt.datetime
    requests: int = 0


# The privilege-gain drill's change is the app's own (a management command), not traffic.
PRIVILEGE_COMMAND = ("manage.py", "drill_privilege_gain")
# Gives a command make run-app's environment (its database and log folder): offline, the change is made there.
RUN_APP_ENV = REPO_ROOT / "scripts" / "run_app_env.py"


def generator_arguments(scenario: Scenario, size: int, base_url: str, source_address: str) -> list[str]:
    return [scenario.name, "--base-url", base_url, "--source-address", source_address,
            "--max-seconds", str(GENERATOR_MAX_SECONDS), f"--{scenario.size_option}", str(size)]


def privilege_arguments(source_address: str) -> list[str]:
    return [*PRIVILEGE_COMMAND, "--account", generator.drill_privilege_account(source_address)]


def _run(command: list[str], cwd: Path | None, env: dict[str, str] | None) -> TrafficReport:
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=PROCESS_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise DrillError(f"the traffic generator ran longer than {PROCESS_TIMEOUT_SECONDS} s and was stopped.") from None
    except OSError as error:
        raise DrillError(f"the traffic generator did not start ({command[0]}): {error}") from None
    if done.returncode != 0:
        raise GeneratorFailed(done.returncode, done.stderr.strip() or done.stdout.strip())
    try:
        summary = json.loads(done.stdout)
        return TrafficReport(Counter(summary["expected_security_events"]), summary["expected_error_records"],
                             dt.datetime.fromisoformat(summary["ended_at"].replace("Z", "+00:00")), summary["requests"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise DrillError(f"the traffic generator printed no report the drill reads: {done.stdout[:200]!r}") from None


def run_here(scenario: Scenario, size: int, base_url: str, source_address: str, env: dict[str, str],
             app_env: dict[str, str] | None = None) -> TrafficReport:
    """Against an app on this machine (make run-app), with this interpreter: the generator uses only
    the standard library, so it needs none of the app's settings. The privilege-gain change runs as a
    management command with ``app_env`` (the app's environment), by default make run-app's."""
    if scenario.size_option is None:
        if app_env is None:
            return _run([sys.executable, str(RUN_APP_ENV), "--quiet", sys.executable,
                         *privilege_arguments(source_address)], APP_DIR, env)
        return _run([sys.executable, *privilege_arguments(source_address)], APP_DIR, app_env)
    return _run([sys.executable, *GENERATOR, *generator_arguments(scenario, size, base_url, source_address)],
                APP_DIR, env)


def run_in_app_container(compose: list[str], scenario: Scenario, size: int, source_address: str) -> TrafficReport:
    """Inside the app container (docker compose exec), against gunicorn on the container's loopback; the
    privilege-gain change through the app's own manage.py there."""
    if scenario.size_option is None:
        return _run([*compose, "exec", "-T", "app", "python", *privilege_arguments(source_address)], None, None)
    arguments = generator_arguments(scenario, size, "http://127.0.0.1:8000/", source_address)
    return _run([*compose, "exec", "-T", "app", "python", *GENERATOR, *arguments], None, None)
