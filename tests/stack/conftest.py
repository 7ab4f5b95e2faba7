"""Fixtures of the setup tests: the passwords setup gets, its assets in a scratch folder, the fake stack,
the TLS certificates."""

import secrets
from pathlib import Path

import pytest

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
