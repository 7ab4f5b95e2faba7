"""The live tests' settings and clients, under every profile: the scheme and CA come from drill/settings.py.

Elasticsearch and Kibana are verified against the stack's own CA under tls and cluster (StackAccess),
and the app is plain HTTP everywhere. The browser cannot be given a CA file: it is told the public
key of the Kibana certificate this module has just verified against the CA (kibana_browser_flags).
"""

import base64
import hashlib
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from elasticsearch import Elasticsearch

from drill.settings import CA_FILE, StackAccess, http_url, port, stack_access, stack_values
from tests.integration.http_client import HTTP_TIMEOUT_SECONDS, http_client

# Chromium ignores a certificate error only for a chain holding a key of this list: SHA-256 of the DER
# SubjectPublicKeyInfo, base64 (chromium services/network/ignore_errors_cert_verifier.cc; the switch
# needs --user-data-dir, which Playwright always passes).
SPKI_LIST_FLAG = "--ignore-certificate-errors-spki-list"


@dataclass(frozen=True)
class StackSettings:
    access: StackAccess
    app_port: int
    elasticsearch_port: int
    kibana_port: int
    # Kept out of repr: pytest prints fixture values in failure reports.
    elastic_password: str = field(repr=False)
    demo_username: str
    demo_password: str = field(repr=False)

    @classmethod
    def load(cls, environ: dict[str, str], env_file: Path, ca_file: Path = CA_FILE) -> "StackSettings":
        """As the drills read them (drill/settings.py): the environment's, else .env's."""
        values = stack_values(environ, env_file)
        return cls(
            access=stack_access(values, ca_file),
            app_port=port(values, "APP_PORT", 8000),
            elasticsearch_port=port(values, "ELASTICSEARCH_PORT", 9200),
            kibana_port=port(values, "KIBANA_PORT", 5601),
            elastic_password=values.get("ELASTIC_PASSWORD", ""),
            demo_username=values.get("DEMO_USERNAME", ""),
            demo_password=values.get("DEMO_PASSWORD", ""),
        )

    @property
    def host(self) -> str:
        return self.access.host

    @property
    def app_url(self) -> str:
        return http_url(self.host, self.app_port)

    @property
    def elasticsearch_url(self) -> str:
        return self.access.url(self.elasticsearch_port)

    @property
    def kibana_url(self) -> str:
        return self.access.url(self.kibana_port)

    def services(self) -> list[tuple[str, int]]:
        return [("app", self.app_port), ("Elasticsearch", self.elasticsearch_port), ("Kibana", self.kibana_port)]


def elasticsearch_client(settings: StackSettings) -> Elasticsearch:
    return Elasticsearch(
        settings.elasticsearch_url,
        basic_auth=("elastic", settings.elastic_password),
        request_timeout=HTTP_TIMEOUT_SECONDS,
        max_retries=0,
        **settings.access.elasticsearch_options(),
    )


def kibana_client(settings: StackSettings) -> httpx.Client:
    return http_client(
        settings.kibana_url, auth=("elastic", settings.elastic_password), verify=settings.access.ssl_context()
    )


def verified_certificate(host: str, port_number: int, context: ssl.SSLContext) -> bytes:
    """The DER certificate the server presents, after the handshake verified it (chain and hostname)."""
    with (
        socket.create_connection((host, port_number), timeout=HTTP_TIMEOUT_SECONDS) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return tls.getpeercert(binary_form=True)


def _der_element(data: bytes, offset: int) -> tuple[int, int, int]:
    """One DER element at ``offset``: (start of its contents, end of the element, tag)."""
    tag, length = data[offset], data[offset + 1]
    start = offset + 2
    if length & 0x80:  # long form: the low bits count the length's bytes
        count = length & 0x7F
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    return start, start + length, tag


def spki_sha256(certificate_der: bytes) -> str:
    """Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (RFC 5280 4.1: the TBSCertificate's
    seventh field, or sixth without the optional [0] version)."""
    tbs_start, _end, _tag = _der_element(certificate_der, _der_element(certificate_der, 0)[0])
    offset, spki_position = tbs_start, 6
    if certificate_der[offset] == 0xA0:  # explicit [0] version
        spki_position = 7
    for _ in range(spki_position - 1):
        offset = _der_element(certificate_der, offset)[1]
    _start, end, tag = _der_element(certificate_der, offset)
    if tag != 0x30:
        raise ValueError("no SubjectPublicKeyInfo sequence where RFC 5280 puts it")
    return base64.b64encode(hashlib.sha256(certificate_der[offset:end]).digest()).decode()


def kibana_browser_flags(settings: StackSettings) -> list[str]:
    """Chromium flags that make it accept the Kibana certificate verified here against the CA; none over HTTP."""
    if not settings.access.profile.tls:
        return []
    certificate = verified_certificate(settings.host, settings.kibana_port, settings.access.ssl_context())
    return [f"{SPKI_LIST_FLAG}={spki_sha256(certificate)}"]
