"""Setup on the tls and cluster profiles, run as a real process against the fake Elasticsearch and Kibana
served over real TLS (python's ssl, certificates made by openssl: the `certs` fixture): TLS_CA_FILE, a
multi-node ELASTICSEARCH_URL and INDEX_REPLICAS. Their settings alone: test_setup_tls_checks.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.fake_elastic import FakeElasticStack
from tests.support.paths import REPO_ROOT
from tests.support.setup_assets import edit_json
from tests.support.setup_run import run_setup, step_lines, writes
from tests.support.tls_certs import ServerCertificate

RULE_CREATE = ("POST", "/api/alerting/rule/django-logs-error-burst")


@contextmanager
def tls_stack(passwords: dict[str, str], elasticsearch: ServerCertificate, kibana: ServerCertificate) -> Iterator[FakeElasticStack]:
    contexts = {"elasticsearch": elasticsearch.server_context(), "kibana": kibana.server_context()}
    with FakeElasticStack(passwords["ELASTIC_PASSWORD"], tls=contexts) as stack:
        yield stack


@contextmanager
def refused_port() -> Iterator[int]:
    """A port bound but not listening: connections to it are refused, like a node that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def assert_refused_at_once(result, expected: str) -> None:
    """Exit 2 with `expected`, no traceback, and no waiting for the service."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "waiting for" not in result.stdout


# -- TLS_CA_FILE ----------------------------------------------------------------------------------


def test_provisions_over_tls_verifying_both_services_with_the_ca_file(certs, assets, passwords):
    with tls_stack(passwords, certs.node, certs.node) as stack:
        assert stack.elasticsearch_url.startswith("https://") and stack.kibana_url.startswith("https://")
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert))
        recorded = stack.recorded()

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("setup: done\n")
    assert ("PUT", "/_index_template/django-logs") in writes(recorded)
    assert RULE_CREATE in writes(recorded)


@pytest.mark.parametrize("service", ["elasticsearch", "kibana"])
def test_a_certificate_from_another_ca_stops_setup_at_once_naming_the_url_and_the_fix(certs, assets, passwords, service):
    served = {"elasticsearch": certs.node, "kibana": certs.node, service: certs.stranger}
    with tls_stack(passwords, **served) as stack:
        # A timeout far beyond the run's own limit: only stopping at once lets the run finish.
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert), SETUP_TIMEOUT_SECONDS="3600")
        recorded = stack.recorded()

    variable = f"{service.upper()}_URL"
    assert_refused_at_once(
        result,
        f"{variable}: the TLS certificate of {stack.url(service)} could not be verified (unable to get local issuer "
        f"certificate). It was checked against TLS_CA_FILE={certs.ca.cert}: that must be the CA that signed this "
        "certificate (ca/ca.crt in the certs volume",
    )
    assert [request for request in recorded if request.service == service] == []
    if service == "kibana":  # Elasticsearch was provisioned first
        assert ("PUT", "/_index_template/django-logs") in writes(recorded)


def test_without_a_ca_file_the_stacks_own_ca_is_not_trusted(certs, assets, passwords):
    with tls_stack(passwords, certs.node, certs.node) as stack:
        result = run_setup(stack, assets, passwords)

    assert_refused_at_once(
        result,
        "could not be verified (unable to get local issuer certificate). TLS_CA_FILE is not set, so it was checked "
        "against the public CAs (certifi): set TLS_CA_FILE to the CA that signed the stack's certificates",
    )


def test_a_node_certificate_as_the_ca_file_is_refused_before_any_call(certs, assets, passwords):
    with tls_stack(passwords, certs.node, certs.node) as stack:
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.node.cert))

    assert result.returncode == 2
    assert f"TLS_CA_FILE={certs.node.cert} holds no CA certificate (a node's own certificate?)" in result.stderr
    assert stack.recorded() == []


# -- hostnames ------------------------------------------------------------------------------------


def test_an_address_the_elasticsearch_certificate_does_not_name_is_refused(certs, assets, passwords):
    with tls_stack(passwords, certs.localhost_only, certs.node) as stack:
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert))

    assert_refused_at_once(
        result,
        f"ELASTICSEARCH_URL: the TLS certificate of {stack.elasticsearch_url} could not be verified (hostname "
        "'127.0.0.1' doesn't match 'localhost'). Connect by a name the certificate holds",
    )


def test_an_address_the_kibana_certificate_does_not_name_is_refused(certs, assets, passwords):
    with tls_stack(passwords, certs.node, certs.localhost_only) as stack:
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert))

    assert_refused_at_once(
        result,
        f"KIBANA_URL: the TLS certificate of {stack.kibana_url} could not be verified (IP address mismatch, "
        "certificate is not valid for '127.0.0.1'). Connect by a name the certificate holds",
    )


def test_the_name_the_certificate_holds_is_accepted(certs, assets, passwords):
    with tls_stack(passwords, certs.localhost_only, certs.localhost_only) as stack:
        result = run_setup(
            stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert),
            ELASTICSEARCH_URL=stack.url("elasticsearch", "localhost"), KIBANA_URL=stack.url("kibana", "localhost"),
        )

    assert result.returncode == 0, result.stderr


# -- several nodes --------------------------------------------------------------------------------


@pytest.mark.parametrize("down_first", [True, False])
def test_a_node_that_is_down_is_passed_over_for_the_next(certs, assets, passwords, down_first):
    """elastic_transport marks a node it cannot connect to dead and sends the call to the next one
    (_transport.py perform_request, _node_pool.py NodePool). Its round-robin selector picks each of two
    live nodes within the client's first two calls, so the down node is tried at the latest by the
    second call (kibana_system's password), whichever order the pool shuffled them into: with a single
    try per call that call would fail, or the readiness check would wait."""
    with tls_stack(passwords, certs.node, certs.node) as stack, refused_port() as port:
        down = f"https://127.0.0.1:{port}"
        nodes = [down, stack.elasticsearch_url] if down_first else [stack.elasticsearch_url, down]
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert), ELASTICSEARCH_URL=",".join(nodes))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "waiting for elasticsearch" not in result.stdout
    assert ("PUT", "/_security/user/kibana_system/_password") in writes(stack.recorded())


def test_every_node_whose_certificate_fails_is_named(certs, assets, passwords):
    with tls_stack(passwords, certs.stranger, certs.node) as stack:
        nodes = [stack.url("elasticsearch", "localhost"), stack.elasticsearch_url]
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert), ELASTICSEARCH_URL=",".join(nodes))

    assert_refused_at_once(result, f"ELASTICSEARCH_URL: the TLS certificate of {nodes[0]} could not be verified")
    assert f"ELASTICSEARCH_URL: the TLS certificate of {nodes[1]} could not be verified" in result.stderr


def test_the_timeout_message_names_every_node(assets, passwords):
    with FakeElasticStack(passwords["ELASTIC_PASSWORD"]) as stack, refused_port() as one, refused_port() as two:
        nodes = f"http://127.0.0.1:{one},http://127.0.0.1:{two}"
        result = run_setup(stack, assets, passwords, ELASTICSEARCH_URL=nodes, SETUP_TIMEOUT_SECONDS="0.5")

    assert result.returncode == 1
    assert f"Elasticsearch at {nodes} was not ready" in result.stderr


def test_http_and_https_nodes_together_are_refused_before_any_call(certs, assets, passwords):
    with tls_stack(passwords, certs.node, certs.node) as stack:
        nodes = f"{stack.elasticsearch_url},http://127.0.0.1:9200"
        result = run_setup(stack, assets, passwords, TLS_CA_FILE=str(certs.ca.cert), ELASTICSEARCH_URL=nodes)

    assert result.returncode == 2
    assert f"ELASTICSEARCH_URL='{nodes}' mixes http and https" in result.stderr
    assert stack.recorded() == []


# -- INDEX_REPLICAS -------------------------------------------------------------------------------


def template_replicas(stack: FakeElasticStack) -> dict[str, object]:
    """Each template PUT's index.number_of_replicas, as sent."""
    return {
        request.path.removeprefix("/_index_template/"): request.json()["template"]["settings"]["index.number_of_replicas"]
        for request in stack.recorded() if request.method == "PUT" and request.path.startswith("/_index_template/")
    }


@pytest.mark.parametrize(("environment", "replicas"), [({}, 0), ({"INDEX_REPLICAS": "1"}, 1), ({"INDEX_REPLICAS": "10"}, 10)])
def test_every_template_gets_the_replicas_setting(stack, passwords, environment, replicas):
    result = run_setup(stack, REPO_ROOT, passwords, **environment)

    assert result.returncode == 0, result.stderr
    assert template_replicas(stack) == {"django-alerts": replicas, "django-logs": replicas}
    assert {name: body["template"]["settings"]["index"]["number_of_replicas"] for name, body in stack.templates.items()} == {
        "django-alerts": str(replicas), "django-logs": str(replicas)}


def test_a_changed_replicas_setting_updates_the_templates_and_the_same_one_leaves_them(stack, passwords):
    assert run_setup(stack, REPO_ROOT, passwords, INDEX_REPLICAS="1").returncode == 0
    same = run_setup(stack, REPO_ROOT, passwords, INDEX_REPLICAS="1")
    changed = run_setup(stack, REPO_ROOT, passwords, INDEX_REPLICAS="0")

    templates = ("index template django-alerts", "index template django-logs")
    assert [step_lines(same.stdout)[step] for step in templates] == ["unchanged", "unchanged"]
    assert [step_lines(changed.stdout)[step] for step in templates] == ["updated", "updated"]


@pytest.mark.parametrize("value", ["11", "-1", "one", "", "1.0"])
def test_a_bad_replicas_setting_stops_before_any_call(stack, assets, passwords, value):
    result = run_setup(stack, assets, passwords, INDEX_REPLICAS=value)

    assert result.returncode == 2
    assert f"INDEX_REPLICAS={value!r} must be a whole number from 0 to 10 (default 0)." in result.stderr
    assert stack.recorded() == []


def test_the_replicas_setting_replaces_every_spelling_the_template_file_used(stack, assets, passwords):
    # The test template spells it "number_of_replicas": 0 (tests/support/setup_assets.py); add the nested one.
    edit_json(assets / "elasticsearch" / "index_templates" / "django-logs.json",
              lambda t: t["template"]["settings"]["index"].update(number_of_replicas=3))

    result = run_setup(stack, assets, passwords, INDEX_REPLICAS="2")

    assert result.returncode == 0, result.stderr
    [put] = [r for r in stack.recorded() if r.method == "PUT" and r.path == "/_index_template/django-logs"]
    assert put.json()["template"]["settings"] == {
        "index.number_of_replicas": 2,
        "index.lifecycle.name": "django-logs",
        "index": {"lifecycle": {"parse_origination_date": True}},
        "number_of_shards": 1,
    }
