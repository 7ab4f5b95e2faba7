"""What the running profile promises (COMPOSE_FILE; scripts/stack_profile.py), on the live stack.

tls and cluster: Elasticsearch and Kibana speak only HTTPS on their published ports, with certificates
for localhost and 127.0.0.1 that the stack's CA (var/tls/ca.crt) signed and nothing else trusts.
cluster: three nodes, green, one replica of every index setup's templates create; none elsewhere.
"""

import secrets
import socket
import ssl
import time

import httpx
import pytest

from tests.integration.stack_clients import verified_certificate

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

INGEST_TIMEOUT_SECONDS = 120
POLL_SECONDS = 0.5
GREEN_TIMEOUT = "60s"
# How each name appears in a certificate's subjectAltName, as ssl.getpeercert() reports it.
CERTIFICATE_NAMES = {"localhost": ("DNS", "localhost"), "127.0.0.1": ("IP Address", "127.0.0.1")}
TEMPLATES = ("django-logs", "django-alerts")


@pytest.fixture
def tls_stack(live_stack):
    if not live_stack.settings.access.profile.tls:
        pytest.skip(f"the {live_stack.settings.access.profile.name} profile serves plain HTTP")
    return live_stack


@pytest.fixture
def cluster_stack(live_stack):
    if live_stack.settings.access.profile.name != "cluster":
        pytest.skip(f"the {live_stack.settings.access.profile.name} profile runs a single node")
    return live_stack


def expected_replicas(live_stack) -> str:
    # Index settings come back as strings.
    return "1" if live_stack.settings.access.profile.name == "cluster" else "0"


def published_ports(live_stack) -> dict[str, int]:
    return {"Elasticsearch": live_stack.settings.elasticsearch_port, "Kibana": live_stack.settings.kibana_port}


def test_elasticsearch_closes_a_plain_http_connection(tls_stack):
    # Netty4HttpServerTransport.java (elastic/elasticsearch): "received plaintext http traffic on an https
    # channel, closing connection". No answer at all, so no client can mistake it for the API.
    url = f"http://{tls_stack.settings.host}:{tls_stack.settings.elasticsearch_port}/"
    with httpx.Client(trust_env=False, timeout=10) as client:
        try:
            response = client.get(url)
        except (httpx.RemoteProtocolError, httpx.ReadError) as error:
            tls_stack.note(f"plain HTTP to Elasticsearch: {type(error).__name__}")
            return
    pytest.fail(f"Elasticsearch answered plain HTTP on {url}: HTTP {response.status_code}")


@pytest.mark.parametrize("name", CERTIFICATE_NAMES)
def test_certificates_verify_against_the_stack_ca_for_each_local_name(tls_stack, name):
    context = tls_stack.settings.access.ssl_context()
    for service, port_number in published_ports(tls_stack).items():
        with (
            socket.create_connection((tls_stack.settings.host, port_number), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            names = tls.getpeercert()["subjectAltName"]
        # The handshake verified chain and hostname; the name is in the certificate itself, not matched otherwise.
        assert CERTIFICATE_NAMES[name] in names, f"{service}: {names}"


def test_a_client_that_trusts_only_the_default_authorities_refuses_both(tls_stack):
    for service, port_number in published_ports(tls_stack).items():
        with pytest.raises(ssl.SSLCertVerificationError):
            verified_certificate(tls_stack.settings.host, port_number, ssl.create_default_context())
        with httpx.Client(trust_env=False, timeout=10) as default_trust, pytest.raises(httpx.ConnectError):
            default_trust.get(f"https://{tls_stack.settings.host}:{port_number}/")
        tls_stack.note(f"{service}: refused by a client without the stack's CA")


def test_the_cluster_has_exactly_its_three_nodes_and_is_green(cluster_stack):
    nodes = cluster_stack.es.cat.nodes(h="name", format="json")
    assert sorted(node["name"] for node in nodes) == ["es01", "es02", "es03"]
    health = cluster_stack.es.cluster.health(wait_for_status="green", timeout=GREEN_TIMEOUT)
    assert (health["status"], health["number_of_nodes"], health["timed_out"]) == ("green", 3, False)


def test_setup_templates_give_the_profile_replica_count(live_stack):
    for name in TEMPLATES:
        templates = live_stack.es.indices.get_index_template(name=name)["index_templates"]
        settings = templates[0]["index_template"]["template"]["settings"]["index"]
        assert settings["number_of_replicas"] == expected_replicas(live_stack), name


def test_todays_log_index_has_the_profile_replica_count(live_stack):
    request_id = f"liveprofile{secrets.token_hex(8)}"
    with live_stack.app_client("live-stack-test profile") as app:
        assert app.get("/", headers={"X-Request-ID": request_id}).status_code == 200
    deadline = time.monotonic() + INGEST_TIMEOUT_SECONDS
    while not (hits := live_stack.es.search(index="django-logs-*", query={"term": {"http.request.id": request_id}},
                                            size=1)["hits"]["hits"]):
        if time.monotonic() >= deadline:
            pytest.fail(f"request {request_id} not searchable in django-logs-* within {INGEST_TIMEOUT_SECONDS} s")
        time.sleep(POLL_SECONDS)
    index = hits[0]["_index"]
    found = live_stack.es.indices.get_settings(index=index, name="index.number_of_replicas")
    assert found[index]["settings"]["index"]["number_of_replicas"] == expected_replicas(live_stack), index
