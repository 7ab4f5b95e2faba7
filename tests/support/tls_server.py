"""A small HTTPS server that answers as the stack does, and openssl's SPKI hash of a certificate.

The certificates come from tests/support/tls_certs.py.
"""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.tls_certs import ServerCertificate, openssl

CLUSTER_HEALTH = {"cluster_name": "docker-cluster", "status": "green", "number_of_nodes": 1, "timed_out": False}
KIBANA_STATUS = {"status": {"core": {"elasticsearch": {"level": "available"}, "savedObjects": {"level": "available"}}}}


def openssl_spki_sha256(certificate: Path) -> str:
    """Base64 SHA-256 of the certificate's public key info, as Chromium's docs compute it with openssl."""
    public_key = openssl("x509", "-in", str(certificate), "-pubkey", "-noout")
    der = openssl("pkey", "-pubin", "-outform", "der", stdin=public_key)
    digest = openssl("dgst", "-sha256", "-binary", stdin=der)
    return openssl("base64", stdin=digest).decode().strip()


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
def https_server(certificate: ServerCertificate):
    """Serves on 127.0.0.1 over TLS with this certificate; yields the port."""
    context = certificate.server_context()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StackHandler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server) as port:
        yield port


@contextmanager
def serving(server: ThreadingHTTPServer):
    """Runs the server in a thread; yields its port, then shuts it down."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
