"""scripts/create_env.py, run as `make env` runs it, on a copy of the real .env.example."""

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password

from tests.support.compose import SECRETS, compose_binary
from tests.support.env_file import ELASTIC_VERSION, example_values
from tests.support.paths import COMPOSE_FILE, ENV_EXAMPLE, SCRIPTS_DIR

SCRIPT = SCRIPTS_DIR / "create_env.py"
SCRIPT_TIMEOUT_SECONDS = 30
MIN_LENGTHS = {"KIBANA_ENCRYPTION_KEY": 32, "DJANGO_SECRET_KEY": 50}


class Workspace:
    def __init__(self, directory: Path):
        self.directory = directory
        self.env = directory / ".env"
        self.example = directory / ".env.example"
        shutil.copyfile(ENV_EXAMPLE, self.example)

    def run(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--env-file", str(self.env), "--example", str(self.example)],
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_SECONDS,
            check=False,
        )

    def values(self) -> dict[str, str]:
        """The created .env as raw text after `=`: unlike a .env parser, it shows any quote or comment."""
        values = {}
        for line in self.env.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                values[name] = value
        return values

    def replace_line(self, name: str, new_line: str | None) -> None:
        """Put new_line in place of NAME=..., or drop that line when new_line is None."""
        lines = self.env.read_text(encoding="utf-8").splitlines(keepends=True)
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        lines[index : index + 1] = [] if new_line is None else [new_line + "\n"]
        self.env.write_text("".join(lines), encoding="utf-8")


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return Workspace(tmp_path)


@pytest.fixture
def created(workspace) -> tuple[Workspace, subprocess.CompletedProcess]:
    result = workspace.run()
    assert result.returncode == 0, result.stderr
    return workspace, result


def test_creates_env_readable_by_its_owner_only(created):
    workspace, result = created
    assert stat.S_IMODE(workspace.env.stat().st_mode) == 0o600
    assert f"Created {workspace.env}" in result.stdout
    assert "[required]" in workspace.example.read_text(encoding="utf-8"), "the example must stay untouched"


def test_every_secret_is_random_long_and_distinct(created):
    workspace, _ = created
    values = workspace.values()
    secrets_found = [values[name] for name in SECRETS]
    assert len(set(secrets_found)) == len(SECRETS)
    for name in SECRETS:
        value = values[name]
        assert value.isascii() and value.isalnum(), f"{name} should need no quoting anywhere"
        assert len(value) >= max(32, MIN_LENGTHS.get(name, 0)), name
        assert "changeme" not in value.lower()


def test_two_runs_in_two_places_draw_different_secrets(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    assert first.run().returncode == 0 and second.run().returncode == 0
    assert {first.values()[name] for name in SECRETS}.isdisjoint({second.values()[name] for name in SECRETS})


def test_everything_but_the_secrets_is_copied_from_the_example(created):
    workspace, _ = created
    values = workspace.values()
    example = example_values(workspace.example)
    assert set(values) == set(example)
    assert {name: value for name, value in values.items() if name not in SECRETS} == {
        name: value for name, value in example.items() if name not in SECRETS
    }
    assert values["ELASTIC_VERSION"] == ELASTIC_VERSION
    assert values["DEMO_USERNAME"] == "demo"


def test_output_names_the_file_but_never_a_secret(created):
    workspace, result = created
    output = result.stdout + result.stderr
    assert str(workspace.env) in output
    for name in SECRETS:
        assert workspace.values()[name] not in output, name


def test_a_second_run_leaves_the_file_byte_identical(created):
    workspace, _ = created
    before_bytes, before_stat = workspace.env.read_bytes(), workspace.env.stat()
    result = workspace.run()
    assert result.returncode == 0, result.stderr
    assert "left unchanged" in result.stdout
    assert workspace.env.read_bytes() == before_bytes
    assert workspace.env.stat().st_mtime_ns == before_stat.st_mtime_ns
    assert workspace.env.stat().st_ino == before_stat.st_ino


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("ELASTIC_PASSWORD", "ELASTIC_PASSWORD=", "ELASTIC_PASSWORD is empty"),
        ("LOGSTASH_WRITER_PASSWORD", "LOGSTASH_WRITER_PASSWORD=changeme", "LOGSTASH_WRITER_PASSWORD is a placeholder"),
        ("KIBANA_SYSTEM_PASSWORD", 'KIBANA_SYSTEM_PASSWORD="ChangeMe"', "KIBANA_SYSTEM_PASSWORD is a placeholder"),
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY=" + "k" * 49, "DJANGO_SECRET_KEY is shorter than 50 characters"),
        ("KIBANA_ENCRYPTION_KEY", "KIBANA_ENCRYPTION_KEY=" + "x1" * 10, "KIBANA_ENCRYPTION_KEY is shorter than 32"),
        ("DEMO_PASSWORD", None, "DEMO_PASSWORD is missing"),
        ("DEMO_USERNAME", None, "DEMO_USERNAME is missing"),
        ("ELASTIC_VERSION", "ELASTIC_VERSION=", "ELASTIC_VERSION is empty"),
    ],
)
def test_an_existing_env_with_a_bad_required_value_is_refused_and_left_alone(created, name, line, message):
    workspace, _ = created
    workspace.replace_line(name, line)
    before = workspace.env.read_bytes()
    result = workspace.run()
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "left unchanged" in result.stderr and str(workspace.env) in result.stderr
    assert workspace.env.read_bytes() == before
    # The random values must not be echoed; short ones like "changeme" may appear in the advice.
    values, output = workspace.values(), result.stdout + result.stderr
    assert [secret for secret in SECRETS if len(values.get(secret, "")) >= 16 and values[secret] in output] == []


def test_every_problem_is_reported_at_once(created):
    workspace, _ = created
    workspace.replace_line("ELASTIC_PASSWORD", "ELASTIC_PASSWORD=changeme")
    workspace.replace_line("DEMO_USERNAME", None)
    result = workspace.run()
    assert result.returncode == 1
    assert "ELASTIC_PASSWORD is a placeholder" in result.stderr
    assert "DEMO_USERNAME is missing" in result.stderr


def test_an_optional_variable_missing_from_env_is_fine(created):
    workspace, _ = created
    workspace.replace_line("SENTRY_DSN", None)
    result = workspace.run()
    assert result.returncode == 0, result.stderr


def test_an_existing_env_open_to_others_is_left_alone_with_a_warning(created):
    workspace, _ = created
    workspace.env.chmod(0o644)
    result = workspace.run()
    assert result.returncode == 0, result.stderr
    assert f"chmod 600 {workspace.env}" in result.stderr
    assert stat.S_IMODE(workspace.env.stat().st_mode) == 0o644


def test_a_missing_example_is_a_clear_error(workspace):
    workspace.example.unlink()
    result = workspace.run()
    assert result.returncode == 1
    assert f"{workspace.example} does not exist" in result.stderr
    assert not workspace.env.exists()


def test_the_created_env_satisfies_every_variable_compose_requires(created, tmp_path):
    workspace, _ = created
    result = subprocess.run(
        [str(compose_binary()), "--env-file", str(workspace.env), "-f", str(COMPOSE_FILE), "config", "-q"],
        env={"HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_created_demo_password_passes_the_apps_password_validators(created):
    workspace, _ = created
    values = workspace.values()
    # Raises ValidationError if Django's validators (length, common, numeric, similarity) refuse it.
    validate_password(values["DEMO_PASSWORD"], User(username=values["DEMO_USERNAME"]))
