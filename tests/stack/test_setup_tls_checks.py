"""The settings of the tls and cluster profiles, checked in-process: ELASTICSEARCH_URL's node list and
TLS_CA_FILE (INDEX_REPLICAS: test_setup_tls.py runs setup with it)."""

from __future__ import annotations

import os

import pytest

from provision.errors import ConfigError
from provision.settings import load_settings


def refusal(passwords: dict[str, str], **environ: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings({**passwords, **environ})
    return str(caught.value)


def test_elasticsearch_url_takes_the_nodes_in_order(passwords):
    settings = load_settings({**passwords, "ELASTICSEARCH_URL": " https://es01:9200/, https://es02:9200,https://es03:9200"})

    assert settings.elasticsearch_urls == ("https://es01:9200", "https://es02:9200", "https://es03:9200")


@pytest.mark.parametrize(("value", "message"), [
    ("https://es01:9200,,https://es02:9200", "ELASTICSEARCH_URL has an empty entry: separate node URLs with single commas."),
    ("https://es01:9200,", "ELASTICSEARCH_URL has an empty entry"),
    ("https://es01:9200,https://es01:9200/", "ELASTICSEARCH_URL='https://es01:9200,https://es01:9200' names a node twice."),
    ("https://es01:9200,es02:9200", "ELASTICSEARCH_URL='es02:9200' is not a valid URL: use http(s)://host:port."),
    ("https://es01:9200,https://elastic:Secret-in-URL@es02:9200", "ELASTICSEARCH_URL must not contain credentials"),
    ("http://es01:9200,https://es02:9200", "ELASTICSEARCH_URL='http://es01:9200,https://es02:9200' mixes http and https"),
])
def test_a_bad_node_list_is_refused(passwords, value, message):
    refused = refusal(passwords, ELASTICSEARCH_URL=value)

    assert message in refused
    assert "Secret-in-URL" not in refused


def test_the_ca_file_is_read_only_when_set(certs, passwords):
    https = {"ELASTICSEARCH_URL": "https://es01:9200", "KIBANA_URL": "https://kibana:5601"}

    assert load_settings({**passwords, **https, "TLS_CA_FILE": str(certs.ca.cert)}).tls_ca_file == certs.ca.cert
    assert load_settings({**passwords, **https, "TLS_CA_FILE": " "}).tls_ca_file is None
    assert load_settings({**passwords, "KIBANA_URL": "https://kibana:5601", "TLS_CA_FILE": str(certs.ca.cert)}).tls_ca_file == (
        certs.ca.cert)  # Elasticsearch on http, Kibana on https: the CA is Kibana's


def test_a_bad_ca_file_is_refused(certs, passwords, tmp_path):
    https = {"ELASTICSEARCH_URL": "https://es01:9200"}
    missing, folder = tmp_path / "missing.crt", tmp_path

    assert f"TLS_CA_FILE={missing} is not a file: mount the certs volume" in refusal(passwords, **https, TLS_CA_FILE=str(missing))
    assert f"TLS_CA_FILE={folder} is not a file" in refusal(passwords, **https, TLS_CA_FILE=str(folder))
    assert f"TLS_CA_FILE={certs.ca.key} holds no PEM certificate (-----BEGIN CERTIFICATE-----): use ca/ca.crt" in refusal(
        passwords, **https, TLS_CA_FILE=str(certs.ca.key))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file, so no file is unreadable")
def test_an_unreadable_ca_file_is_refused(certs, passwords, tmp_path):
    unreadable = tmp_path / "ca.crt"
    unreadable.write_bytes(certs.ca.cert.read_bytes())
    unreadable.chmod(0)

    message = refusal(passwords, ELASTICSEARCH_URL="https://es01:9200", TLS_CA_FILE=str(unreadable))

    assert f"TLS_CA_FILE={unreadable} cannot be read (Permission denied)" in message


def test_a_ca_file_with_only_http_urls_is_refused(certs, passwords):
    assert (
        f"TLS_CA_FILE={certs.ca.cert} is set but ELASTICSEARCH_URL and KIBANA_URL are all http, so it would be ignored"
    ) in refusal(passwords, TLS_CA_FILE=str(certs.ca.cert))
