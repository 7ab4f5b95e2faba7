"""How host clients reach the stack under each profile (drill/settings.py, StackAccess), offline.

The scheme and CA follow COMPOSE_FILE; the clients the live tests and the drill build verify a real
HTTPS server here against a var/tls-style CA made by openssl, and refuse it without that CA.
"""

import ssl
from pathlib import Path

import elastic_transport
import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from drill import live
from drill.settings import DrillError, load_drill_settings, stack_access, stack_values
from tests.integration.stack_clients import (
    StackSettings,
    elasticsearch_client,
    kibana_browser_flags,
    kibana_client,
    spki_sha256,
    verified_certificate,
)
from tests.support.browser import CHROMIUM_FLAGS, cannot_launch, chromium_executable
from tests.support.tls_certs import make_ca, make_server_certificate
from tests.support.tls_server import CLUSTER_HEALTH, https_server, openssl_spki_sha256

NO_ENV_FILE = Path("/nonexistent/.env")
TLS = "docker-compose.yml:docker-compose.tls.yml"
CLUSTER = "docker-compose.yml:docker-compose.tls.yml:docker-compose.cluster.yml"
MISSING_CA = "run make up: it copies the CA to var/tls/ca.crt"


def access(values: dict[str, str], ca_file: Path, env_file: Path = NO_ENV_FILE):
    return stack_access(stack_values(values, env_file), ca_file)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The stack's CA in var/tls/ca.crt, a server certificate it signed, and a CA that signed nothing here."""
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca(root, "Stack test CA")
    (root / "var" / "tls").mkdir(parents=True)
    ca_file = root / "var" / "tls" / "ca.crt"
    ca_file.write_bytes(ca.cert.read_bytes())
    server = make_server_certificate(root, "kibana", ca, ["localhost", "127.0.0.1"])
    wrong_name = make_server_certificate(root, "elsewhere", ca, ["elsewhere.example"])
    other_ca = make_ca(root, "Some other CA")
    return {"ca_file": ca_file, "server": server, "wrong_name": wrong_name, "other_ca_file": other_ca.cert}


@pytest.fixture(scope="module")
def server(pki):
    with https_server(pki["server"]) as port_number:
        yield port_number


# ---------------------------------------------------------------------------
# Scheme and CA per profile
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("compose_file", "scheme"),
    [("", "http"), ("docker-compose.yml", "http"), ("docker-compose.yml:docker-compose.own-app.yml", "http"),
     (TLS, "https"), (f"{TLS}:docker-compose.own-app.yml", "https"), (CLUSTER, "https")],
)
def test_the_profile_decides_the_scheme(tmp_path, compose_file, scheme):
    stack = access({"COMPOSE_FILE": compose_file}, tmp_path / "ca.crt")
    assert (stack.scheme, stack.url(9200)) == (scheme, f"{scheme}://127.0.0.1:9200")


def test_plain_http_needs_no_ca_file(tmp_path):
    stack = access({}, tmp_path / "missing" / "ca.crt")
    assert (stack.trusted_ca(), stack.elasticsearch_options()) == (None, {})


@pytest.mark.parametrize("compose_file", [TLS, CLUSTER])
def test_tls_profiles_verify_with_the_ca_file(pki, compose_file):
    stack = access({"COMPOSE_FILE": compose_file}, pki["ca_file"])
    assert stack.trusted_ca() == pki["ca_file"]
    assert stack.elasticsearch_options() == {"ca_certs": str(pki["ca_file"])}
    context = stack.ssl_context()
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    # The stack's CA is the only one trusted: no system authorities beside it.
    assert [dict(pair[0] for pair in ca["subject"])["commonName"] for ca in context.get_ca_certs()] == ["Stack test CA"]


def test_the_env_file_selects_the_profile_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"COMPOSE_FILE={TLS}\nBIND_ADDRESS=0.0.0.0\nKIBANA_PORT=15601\n", encoding="utf-8")
    assert access({}, tmp_path / "ca.crt", env_file).url(5601) == "https://127.0.0.1:5601"
    assert access({"COMPOSE_FILE": "docker-compose.yml"}, tmp_path / "ca.crt", env_file).scheme == "http"
    settings = load_drill_settings({}, env_file, tmp_path / "ca.crt")
    assert (settings.access.profile.name, settings.host, settings.kibana_port) == ("tls", "127.0.0.1", 15601)


def test_compose_path_separator_splits_compose_file(tmp_path):
    values = {"COMPOSE_PATH_SEPARATOR": ";", "COMPOSE_FILE": TLS.replace(":", ";")}
    assert access(values, tmp_path / "ca.crt").profile.name == "tls"


def test_a_missing_ca_under_tls_says_to_run_make_up(tmp_path):
    ca_file = tmp_path / "var" / "tls" / "ca.crt"
    stack = access({"COMPOSE_FILE": TLS}, ca_file)
    with pytest.raises(DrillError) as raised:
        stack.trusted_ca()
    assert str(raised.value) == (
        f"the tls profile serves Elasticsearch and Kibana over HTTPS, and the CA that signed their certificates is "
        f"missing at {ca_file}: {MISSING_CA}"
    )
    # The live drill stops on it before connecting; the offline drill needs no CA.
    settings = load_drill_settings({"COMPOSE_FILE": TLS, "ELASTIC_PASSWORD": "pw"}, NO_ENV_FILE, ca_file)
    with pytest.raises(DrillError, match=MISSING_CA):
        live.connect(settings)


def test_a_ca_file_that_holds_no_certificate_is_refused(tmp_path):
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(DrillError, match=rf"holds no CA certificate OpenSSL can read .*{MISSING_CA}"):
        access({"COMPOSE_FILE": CLUSTER}, ca_file).ssl_context()


@pytest.mark.parametrize(
    ("compose_file", "message"),
    [
        ("docker-compose.yml:docker-compose.cluster.yml",
         "COMPOSE_FILE=docker-compose.yml:docker-compose.cluster.yml: docker-compose.cluster.yml needs "
         "docker-compose.tls.yml before it"),
        ("docker-compose.tls.yml", "COMPOSE_FILE=docker-compose.tls.yml does not start with a profile of this stack. Use one of: "
                                   "default: COMPOSE_FILE=docker-compose.yml; "),
    ],
)
def test_a_compose_file_that_is_no_profile_gives_the_profile_error(tmp_path, compose_file, message):
    with pytest.raises(DrillError) as raised:
        load_drill_settings({"COMPOSE_FILE": compose_file}, NO_ENV_FILE, tmp_path / "ca.crt")
    assert str(raised.value).startswith(message)
    with pytest.raises(DrillError, match="does not start with a profile|needs docker-compose.tls.yml"):
        StackSettings.load({"COMPOSE_FILE": compose_file}, NO_ENV_FILE, tmp_path / "ca.crt")


# ---------------------------------------------------------------------------
# The clients, against a real HTTPS server
# ---------------------------------------------------------------------------
def live_settings(port_number: int, ca_file: Path, bind_address: str = "127.0.0.1") -> StackSettings:
    values = {"COMPOSE_FILE": TLS, "BIND_ADDRESS": bind_address, "ELASTICSEARCH_PORT": str(port_number),
              "KIBANA_PORT": str(port_number), "ELASTIC_PASSWORD": "pw"}
    return StackSettings.load(values, NO_ENV_FILE, ca_file)


@pytest.mark.parametrize("bind_address", ["127.0.0.1", "localhost"])
def test_the_live_tests_clients_verify_the_server_against_the_ca(pki, server, bind_address):
    settings = live_settings(server, pki["ca_file"], bind_address)
    assert settings.kibana_url == f"https://{bind_address}:{server}"
    with elasticsearch_client(settings) as es:
        assert es.cluster.health().body == CLUSTER_HEALTH
    with kibana_client(settings) as kibana:
        response = kibana.get("/api/status")
    assert response.status_code == 200
    assert response.json()["status"]["core"]["savedObjects"] == {"level": "available"}


def test_the_drill_connects_over_tls_with_the_same_settings(pki, server):
    values = {"COMPOSE_FILE": CLUSTER, "ELASTICSEARCH_PORT": str(server), "ELASTIC_PASSWORD": "pw"}
    with live.connect(load_drill_settings(values, NO_ENV_FILE, pki["ca_file"])) as es:
        assert es.cluster.health()["status"] == "green"


def test_clients_refuse_the_server_with_another_ca(pki, server):
    settings = live_settings(server, pki["other_ca_file"])
    with elasticsearch_client(settings) as es, pytest.raises(elastic_transport.TlsError) as raised:
        es.cluster.health()
    assert "CERTIFICATE_VERIFY_FAILED" in repr(raised.value)
    with kibana_client(settings) as kibana, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        kibana.get("/api/status")


def test_clients_refuse_a_certificate_of_the_ca_for_another_name(pki):
    with https_server(pki["wrong_name"]) as port_number:
        settings = live_settings(port_number, pki["ca_file"])
        with elasticsearch_client(settings) as es, pytest.raises(elastic_transport.TlsError) as raised:
            es.cluster.health()
        assert "doesn't match 'elsewhere.example'" in repr(raised.value)
        with kibana_client(settings) as kibana, pytest.raises(httpx.ConnectError, match="IP address mismatch"):
            kibana.get("/api/status")


def test_a_client_with_the_default_trust_refuses_the_server(server):
    with pytest.raises(ssl.SSLCertVerificationError):
        verified_certificate("127.0.0.1", server, ssl.create_default_context())


# ---------------------------------------------------------------------------
# The browser: told the key of the certificate verified against the CA
# ---------------------------------------------------------------------------
def test_the_spki_hash_is_the_one_openssl_computes(pki):
    certificate_pem = pki["server"].cert.read_text(encoding="ascii")
    assert spki_sha256(ssl.PEM_cert_to_DER_cert(certificate_pem)) == openssl_spki_sha256(pki["server"].cert)


def test_the_browser_flags_pin_the_verified_kibana_key(pki, server):
    flags = kibana_browser_flags(live_settings(server, pki["ca_file"]))
    assert flags == [f"--ignore-certificate-errors-spki-list={openssl_spki_sha256(pki['server'].cert)}"]
    plain = StackSettings.load({"KIBANA_PORT": str(server)}, NO_ENV_FILE, pki["ca_file"])
    assert kibana_browser_flags(plain) == []


def test_the_browser_flags_refuse_a_kibana_the_ca_did_not_sign(pki, server):
    with pytest.raises(ssl.SSLCertVerificationError):
        kibana_browser_flags(live_settings(server, pki["other_ca_file"]))


def test_chromium_opens_kibana_with_the_flags_and_refuses_it_without(pki, server):
    settings = live_settings(server, pki["ca_file"])
    executable = chromium_executable()
    with sync_playwright() as playwright:
        outcomes = {}
        for label, extra in (("pinned", kibana_browser_flags(settings)), ("default", [])):
            try:
                browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                                     args=[*CHROMIUM_FLAGS, *extra], timeout=30_000)
            except PlaywrightError as error:
                cannot_launch(executable, error)
            try:
                page = browser.new_page()
                try:
                    outcomes[label] = page.goto(f"{settings.kibana_url}/api/status", timeout=30_000).status
                except PlaywrightError as error:
                    outcomes[label] = str(error).splitlines()[0]
            finally:
                browser.close()
    assert outcomes["pinned"] == 200
    assert "ERR_CERT_AUTHORITY_INVALID" in outcomes["default"]
