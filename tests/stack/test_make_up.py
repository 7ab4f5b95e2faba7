"""What `make up` runs, from `make -n up`: the commands are run here with the real Compose binary for
everything that needs no engine (`config`), and a fake of the Docker engine (tests/support/fake_docker.py)
for what does (which containers exist, what they logged, when they started).

What these tests cannot see: the engine itself. That Docker frees a port when Compose removes the
container, that `up` then creates what the plan says, containers started by hand (`docker compose run`)
or by another project on the same ports.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.compose import (
    ALL_COMPOSE_FILES,
    COMBINATIONS,
    COMPOSE_TIMEOUT_SECONDS,
    DUMMY_SECRETS,
    combination_services,
    compose_binary,
    compose_file_value,
    dry_run_commands,
    env_with,
    make_dry_run,
)
from tests.support.fake_docker import write_fake_docker
from tests.support.paths import MAKEFILE, SCRIPTS_DIR

ONE_SHOTS = {"setup", "certs"}
# When the containers of the run before started (any time before this run's).
EARLIER = "2026-12-01T08:00:00.5Z"


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The compose files, the Makefile and scripts/, as in a checkout."""
    directory = tmp_path / "checkout"
    directory.mkdir()
    for path in (*ALL_COMPOSE_FILES, MAKEFILE):
        shutil.copy(path, directory / path.name)
    shutil.copytree(SCRIPTS_DIR, directory / "scripts")
    return directory


def select(checkout: Path, combination: str, log_folder: Path) -> None:
    """.env with dummy secrets, selecting the combination as its COMPOSE_FILE line does."""
    lines = f"COMPOSE_FILE={compose_file_value(COMBINATIONS[combination])}\nOWN_APP_LOG_DIR={log_folder}\n"
    (checkout / ".env").write_text(env_with(DUMMY_SECRETS) + lines, encoding="utf-8")


def up_commands(checkout: Path, *variables: str) -> list[str]:
    return dry_run_commands(make_dry_run(checkout, "up", "COMPOSE=docker compose", f"PYTHON={sys.executable}", *variables))


def the_command(commands: list[str], fragment: str) -> str:
    [command] = [command for command in commands if fragment in command]
    return command


class FakeEngine:
    """The fake engine's state and the calls that changed it (tests/support/fake_docker.py)."""

    def __init__(self, directory: Path, home: Path):
        directory.mkdir()
        self.state_file = directory / "state.json"
        self.environment = {
            "HOME": str(home),
            "PATH": f"{write_fake_docker(directory).parent}:{os.environ['PATH']}",
            "FAKE_ENGINE_STATE": str(self.state_file),
            "FAKE_ENGINE_COMPOSE": str(compose_binary()),
        }

    def holds(self, **state) -> None:
        self.state_file.write_text(json.dumps(state), encoding="utf-8")

    def run(self, command: str, checkout: Path) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=checkout, env=self.environment, capture_output=True,
                              text=True, timeout=COMPOSE_TIMEOUT_SECONDS * 3, check=False)

    def calls(self) -> list[list[str]]:
        calls = self.state_file.parent / "calls.jsonl"
        return [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()] if calls.exists() else []


@pytest.fixture
def engine(tmp_path, home) -> FakeEngine:
    return FakeEngine(tmp_path / "engine", home)


def containers_of(combination: str) -> dict[str, dict]:
    """The containers `make up` left for a combination: one per service, the one-shots exited."""
    return {name: {"id": f"id-{name}", "started": EARLIER, "running": name not in ONE_SHOTS}
            for name in combination_services(combination)}


# --- item: switching profile or mode ----------------------------------------------------------------


def host_ports(config: dict) -> dict[str, str]:
    """Each published host port (address:port) and the service that publishes it."""
    return {f"{port['host_ip']}:{port['published']}": name
            for name, service in config["services"].items() for port in service.get("ports", [])}


@pytest.mark.parametrize("after", list(COMBINATIONS))
@pytest.mark.parametrize("before", list(COMBINATIONS))
def test_a_switch_removes_exactly_the_containers_the_new_combination_does_not_run(
    checkout, engine, log_folder, rendered, before, after
):
    # The engine holds what `make up` left under `before`; .env now selects `after`.
    engine.holds(containers=containers_of(before))
    select(checkout, after, log_folder)
    switch = the_command(up_commands(checkout), "rm --stop --force")
    result = engine.run(switch, checkout)
    assert result.returncode == 0, f"{switch}\n{result.stderr}"
    gone = combination_services(before) - combination_services(after)
    removals = [call for call in engine.calls() if call[0] == "rm"]
    # Stopped and removed, by name, never with their volumes (no -v).
    assert [(call[:3], set(call[3:])) for call in removals] == ([(["rm", "--stop", "--force"], gone)] if gone else [])
    # What is left is what `after` runs, so no container of `before` keeps a port another service of `after`
    # publishes (default -> cluster: the single node kept 127.0.0.1:9200, which es01 publishes).
    left = combination_services(before) - gone
    wanted = host_ports(rendered[after])
    held = {port: name for port, name in host_ports(rendered[before]).items() if name in left}
    assert {port: name for port, name in held.items() if wanted.get(port, name) != name} == {}


def test_the_switch_comes_after_the_checks_and_before_up(checkout, log_folder):
    select(checkout, "default", log_folder)
    commands = up_commands(checkout)
    position = {fragment: next(index for index, command in enumerate(commands) if fragment in command)
                for fragment in ("check_mount_permissions.py", "rm --stop --force", "up -d --build --wait")}
    assert list(position.values()) == sorted(position.values()), commands


# --- item: Compose's own message when it cannot read the files --------------------------------------


def test_make_up_shows_composes_message_not_a_traceback_when_compose_cannot_read_the_files(
    checkout, engine, log_folder
):
    # Own-app mode without OWN_APP_LOG_DIR: docker-compose.own-app.yml's ${OWN_APP_LOG_DIR:?...} stops Compose.
    (checkout / ".env").write_text(
        env_with(DUMMY_SECRETS) + f"COMPOSE_FILE={compose_file_value(COMBINATIONS['default+own-app'])}\n",
        encoding="utf-8",
    )
    commands = up_commands(checkout)
    last = commands.index(the_command(commands, "check_mount_permissions.py"))
    engine.holds(containers={})
    # The commands up to the permission check that read the files, as make runs them: it stops at the first failure.
    for command in [command for command in commands[:last + 1] if " config " in command]:
        result = engine.run(command, checkout)
        if result.returncode != 0:
            break
    assert result.returncode != 0
    assert "OWN_APP_LOG_DIR is not set - set it in .env to your project's log folder" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
