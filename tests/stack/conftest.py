"""Fixtures of the stack tests: the passwords setup gets, its assets in a scratch folder, the fake stack,
the TLS certificates, and every combination of compose files as the real Compose parser renders it."""

import json
import secrets
from pathlib import Path

import pytest

from tests.support.compose import COMBINATIONS, DUMMY_SECRETS, env_with, run_selecting
from tests.support.fake_elastic import FakeElasticStack
from tests.support.setup_assets import build_assets
from tests.support.tls_certs import StackCertificates, make_stack_certificates


@pytest.fixture
def passwords() -> dict[str, str]:
    return {
        "ELASTIC_PASSWORD": "el-" + secrets.token_urlsafe(18),
        "KIBANA_SYSTEM_PASSWORD": "ks-" + secrets.token_urlsafe(18),
        "LOGSTASH_WRITER_PASSWORD": "lw-" + secrets.token_urlsafe(18),
        "ALERTING_PASSWORD": "al-" + secrets.token_urlsafe(18),
    }


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    return build_assets(tmp_path / "assets")


@pytest.fixture
def stack(passwords):
    with FakeElasticStack(passwords["ELASTIC_PASSWORD"]) as fake:
        yield fake


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> StackCertificates:
    """Skips without openssl, fails under CI=true (tls_certs.require_openssl)."""
    return make_stack_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    """An empty HOME for the Compose binary: nothing of this machine's Docker config reaches it."""
    return tmp_path_factory.mktemp("compose-home")


@pytest.fixture(scope="session")
def log_folder(tmp_path_factory) -> Path:
    """The host folder own-app mode mounts; the other combinations ignore it."""
    folder = tmp_path_factory.mktemp("project-logs")
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="session")
def env_file(tmp_path_factory, log_folder) -> Path:
    """.env.example with dummy secrets and the own-app folder set."""
    path = tmp_path_factory.mktemp("env") / "stack.env"
    path.write_text(env_with(DUMMY_SECRETS) + f"OWN_APP_LOG_DIR={log_folder}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def rendered(home, env_file) -> dict[str, dict]:
    """`config --format json` of each combination (tests.support.compose.COMBINATIONS), selected by COMPOSE_FILE."""
    configs = {}
    for combination, files in COMBINATIONS.items():
        result = run_selecting(home, env_file, files, "config", "--format", "json")
        assert result.returncode == 0, f"{combination}: docker compose config failed:\n{result.stderr}"
        configs[combination] = json.loads(result.stdout)
    return configs
