"""Real TLS material for the tests, made by the openssl command: CAs and the server certificates they sign.

The one place the tests make certificates with openssl and decide whether openssl is there. Laid out as the
certs service writes it (ca/ca.crt, <instance>/<instance>.crt and .key), with the extensions a strict verifier
wants (CA basic constraints and key usage, key identifiers, serverAuth).
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = ${ENV::SANS}
"""
_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_serials = itertools.count(1000)


def require_commands(*names: str, purpose: str) -> list[str]:
    """The commands' paths; skip when one is missing, fail under CI=true (the runners have them all)."""
    found = [shutil.which(name) for name in names]
    missing = [name for name, path in zip(names, found, strict=True) if path is None]
    if missing:
        reason = f"{', '.join(missing)} not on PATH: {purpose}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run these tests: {reason}")
        pytest.skip(reason)
    return found


def require_openssl() -> str:
    """The openssl command; skip without it, fail under CI=true."""
    purpose = "the TLS tests make their certificates with it (apt-get install openssl)"
    return require_commands("openssl", purpose=purpose)[0]


def openssl(*args: str, stdin: bytes | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> bytes:
    """Runs `openssl *args` and returns its stdout; a failure names the subcommand and openssl's own message."""
    done = subprocess.run([require_openssl(), *args], input=stdin, cwd=cwd, env=env, capture_output=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} exited {done.returncode}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


@dataclass(frozen=True)
class CertificateAuthority:
    cert: Path
    key: Path


@dataclass(frozen=True)
class ServerCertificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def _openssl_with_config(folder: Path, *args: str, sans: str = "DNS:unused") -> None:
    config = folder / "openssl.cnf"
    if not config.exists():
        config.write_text(_CONFIG)
    # Only this config: nothing from the system's openssl.cnf.
    env = {"PATH": os.environ.get("PATH", ""), "OPENSSL_CONF": str(config), "SANS": sans}
    openssl(*args, "-config" if args[0] == "req" else "-extfile", str(config), cwd=folder, env=env)


def _subject_alt_name(name: str) -> str:
    try:
        return f"IP:{ipaddress.ip_address(name)}"
    except ValueError:
        return f"DNS:{name}"


def make_ca(folder: Path, name: str) -> CertificateAuthority:
    """A self-signed CA named CN=<name> in folder/<name>/ca.crt (and ca.key)."""
    (folder / name).mkdir(parents=True)
    cert, key = folder / name / "ca.crt", folder / name / "ca.key"
    _openssl_with_config(folder, "req", "-x509", "-new", *_KEY, "-keyout", str(key), "-out", str(cert), "-days", "2",
                         "-subj", f"/CN={name}", "-extensions", "ca")
    return CertificateAuthority(cert, key)


def make_server_certificate(folder: Path, name: str, ca: CertificateAuthority, names: list[str]) -> ServerCertificate:
    """folder/<name>/<name>.crt signed by `ca`, naming `names` (DNS names or IP addresses) as its SANs."""
    (folder / name).mkdir(parents=True)
    cert, key, request = (folder / name / f"{name}.{suffix}" for suffix in ("crt", "key", "csr"))
    _openssl_with_config(folder, "req", "-new", *_KEY, "-keyout", str(key), "-out", str(request),
                         "-subj", f"/CN={name}")
    _openssl_with_config(folder, "x509", "-req", "-in", str(request), "-CA", str(ca.cert), "-CAkey", str(ca.key),
                         "-set_serial", str(next(_serials)), "-days", "2", "-out", str(cert), "-extensions", "server",
                         sans=",".join(_subject_alt_name(item) for item in names))
    return ServerCertificate(cert, key)


@dataclass(frozen=True)
class StackCertificates:
    ca: CertificateAuthority  # signed every server certificate below but `stranger`
    other_ca: CertificateAuthority
    node: ServerCertificate  # localhost and 127.0.0.1, as every node and Kibana certificate names them
    localhost_only: ServerCertificate
    stranger: ServerCertificate  # signed by other_ca


def make_stack_certificates(folder: Path) -> StackCertificates:
    ca, other_ca = make_ca(folder, "ca"), make_ca(folder, "other-ca")
    return StackCertificates(
        ca=ca,
        other_ca=other_ca,
        node=make_server_certificate(folder, "elasticsearch", ca, ["localhost", "127.0.0.1"]),
        localhost_only=make_server_certificate(folder, "localhost-only", ca, ["localhost"]),
        stranger=make_server_certificate(folder, "stranger", other_ca, ["localhost", "127.0.0.1"]),
    )
