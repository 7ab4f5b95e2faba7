"""A CA and certificates made by the openssl command, and a small HTTPS server that answers as the stack does.

The layout is the stack's: the CA certificate alone in a file (var/tls/ca.crt), each server's certificate
and key beside it, the server certificate naming localhost and 127.0.0.1 (setup/certs/instances/).
"""

import json
import os
import shutil
import ssl
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

LOCAL_NAMES = "DNS:localhost,IP:127.0.0.1"
CLUSTER_HEALTH = {"cluster_name": "docker-cluster", "status": "green", "number_of_nodes": 1, "timed_out": False}
KIBANA_STATUS = {"status": {"core": {"elasticsearch": {"level": "available"}, "savedObjects": {"level": "available"}}}}


def require_openssl() -> str:
    """The openssl command; skip without it, fail under CI=true (the runners have it)."""
    found = shutil.which("openssl")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check TLS with real certificates: openssl is not on PATH")
        pytest.skip("openssl is not on PATH: apt-get install openssl")
    return found


def _openssl(*args: str) -> None:
    subprocess.run([require_openssl(), *args], check=True, capture_output=True, timeout=60)


@dataclass(frozen=True)
class Authority:
    certificate: Path
    key: Path


def make_ca(folder: Path, name: str) -> Authority:
    folder.mkdir(parents=True, exist_ok=True)
    ca = Authority(folder / "ca.crt", folder / "ca.key")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", str(ca.key), "-out", str(ca.certificate),
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return ca


def make_server_certificate(ca: Authority, folder: Path, name: str, alt_names: str = LOCAL_NAMES) -> tuple[Path, Path]:
    """A certificate for `alt_names` signed by `ca`, and its key: (certificate, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    key, request, certificate = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    extensions = folder / f"{name}.ext"
    extensions.write_text(f"subjectAltName={alt_names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                          "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n", encoding="utf-8")
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", str(key),
             "-out", str(request))
    _openssl("x509", "-req", "-in", str(request), "-CA", str(ca.certificate), "-CAkey", str(ca.key),
             "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(certificate))
    return certificate, key


def openssl_spki_sha256(certificate: Path) -> str:
    """Base64 SHA-256 of the certificate's public key info, as Chromium's docs compute it with openssl."""
    openssl = require_openssl()
    public_key = subprocess.run([openssl, "x509", "-in", str(certificate), "-pubkey", "-noout"],
                                check=True, capture_output=True, timeout=60).stdout
    der = subprocess.run([openssl, "pkey", "-pubin", "-outform", "der"], input=public_key, check=True,
                         capture_output=True, timeout=60).stdout
    digest = subprocess.run([openssl, "dgst", "-sha256", "-binary"], input=der, check=True, capture_output=True,
                            timeout=60).stdout
    return subprocess.run([openssl, "base64"], input=digest, check=True, capture_output=True,
                          timeout=60).stdout.decode().strip()


class _StackHandler(BaseHTTPRequestHandler):
    """GET /_cluster/health as Elasticsearch answers it (with its product header), GET /api/status as Kibana."""

    def do_GET(self):
        if self.path.startswith("/_cluster/health"):
            self._answer(CLUSTER_HEALTH, {"X-Elastic-Product": "Elasticsearch"})
        elif self.path == "/api/status":
            self._answer(KIBANA_STATUS, {})
        else:
            self._answer({"path": self.path}, {"X-Elastic-Product": "Elasticsearch"})

    def _answer(self, body: dict, headers: dict[str, str]):
        payload = json.dumps(body).encode()
        self.send_response(200)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


@contextmanager
def https_server(certificate: Path, key: Path):
    """Serves on 127.0.0.1 over TLS with this certificate; yields the port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StackHandler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
