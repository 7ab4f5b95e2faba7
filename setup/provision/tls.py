"""TLS: the CA file both clients verify certificates with, and the message for a certificate they refused.

Verification is never turned off and hostnames are always checked: elastic_transport verifies by
default (verify_certs, ssl_assert_hostname unset: _node/_http_urllib3.py), and the Kibana pool is made
with cert_reqs CERT_REQUIRED, which checks the hostname too (urllib3 util/ssl_.py create_urllib3_context).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import certifi
import urllib3.util.ssl_match_hostname

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
NAME_MISMATCH_CODES = (62, 64)
CA_IN_CERTS_VOLUME = "ca/ca.crt in the certs volume"


def ca_file_problem(name: str, path: Path) -> str | None:
    """Why `path` is not a CA file the clients can verify with, or None."""
    if not path.is_file():
        return f"{name}={path} is not a file: mount the certs volume and point {name} at {CA_IN_CERTS_VOLUME}."
    try:
        path.read_bytes()
    except OSError as error:
        return f"{name}={path} cannot be read ({error.strerror}): it must be readable by the setup user."
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError:  # OpenSSL found no PEM certificate in it ("no certificate or crl found")
        return f"{name}={path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): use {CA_IN_CERTS_VOLUME}."
    if context.cert_store_stats()["x509_ca"] == 0:
        return f"{name}={path} holds no CA certificate (a node's own certificate?): use {CA_IN_CERTS_VOLUME}."
    return None


def trusted_cas(ca_file: Path | None) -> str:
    """The CA bundle a client verifies with: TLS_CA_FILE, else certifi's, as elastic_transport defaults to
    (_node/_base.py DEFAULT_CA_CERTS), so both clients trust the same CAs (Elastic Cloud's, for one)."""
    return str(ca_file) if ca_file else certifi.where()


@dataclass(frozen=True)
class CertificateProblem:
    reason: str  # the ssl module's or urllib3's words
    wrong_name: bool  # the certificate does not name the host connected to


def unverified_certificate(error: BaseException) -> CertificateProblem | None:
    """The certificate verification failure behind a client error, if that is what it is.

    elastic_transport raises TlsError from urllib3's SSLError, whose first argument (and context) is
    either the ssl module's SSLCertVerificationError or, when the host is an IP address (elastic_transport
    then turns the context's check_hostname off: _node/_base.py ssl_context_from_node_config), the
    CertificateError of urllib3's own match_hostname (util/ssl_match_hostname.py)."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            reason = current.verify_message or current.reason or str(current)
            return CertificateProblem(reason, current.verify_code in NAME_MISMATCH_CODES)
        if isinstance(current, urllib3.util.ssl_match_hostname.CertificateError):
            return CertificateProblem(str(current), True)
        pending.extend([current.__cause__, current.__context__, *current.args])
    return None


def certificate_refused(variable: str, url: str, problem: CertificateProblem, ca_file: Path | None) -> str:
    """The message for a certificate setup could not verify: which URL, why, and the fix."""
    text = f"{variable}: the TLS certificate of {url} could not be verified ({problem.reason.rstrip('.')})."
    if problem.wrong_name:
        return (
            f"{text} Connect by a name the certificate holds (the certs service names each instance, localhost "
            "and 127.0.0.1: setup/certs/instances/), or add this name there and create the certificates again."
        )
    if ca_file is None:
        return (
            f"{text} TLS_CA_FILE is not set, so it was checked against the public CAs (certifi): set TLS_CA_FILE "
            f"to the CA that signed the stack's certificates ({CA_IN_CERTS_VOLUME})."
        )
    return (
        f"{text} It was checked against TLS_CA_FILE={ca_file}: that must be the CA that signed this certificate "
        f"({CA_IN_CERTS_VOLUME}; if the certificates were created again, mount the new volume)."
    )
