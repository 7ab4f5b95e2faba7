"""Sentry through the SDK's real HTTP transport, received by a local envelope endpoint.

gunicorn runs the app with a DSN pointing at 127.0.0.1; the SDK's own
transport POSTs (gzipped) envelopes there, which the test decodes with the
SDK's Envelope parser.
"""

import gzip
import http.client
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope

from tests.app.test_log_records import ORIGIN
from tests.support.app_server import running_app

ENVELOPE_PATH = re.compile(r"/api/(?P<project>\d+)/envelope/")
EVENT_WAIT_SECONDS = 20
BOOM_MESSAGE = "Boom: this view fails on purpose"
CLIENT_IP = "203.0.113.9"
SECRETS = (b"SECRETSESSION", b"SECRETCSRF", b"SECRETTOKEN")
# Everything the app learns about the client that a PII-free event must not carry.
BOOM_HEADERS = {
    "Cookie": "sessionid=SECRETSESSION; csrftoken=SECRETCSRF",
    "Authorization": "Bearer SECRETTOKEN",
    "X-Forwarded-For": CLIENT_IP,
}


@dataclass(frozen=True)
class ReceivedEnvelope:
    project: str
    body: bytes  # decompressed


class EnvelopeEndpoint:
    """A minimal Sentry ingest endpoint on 127.0.0.1 that keeps every envelope it is sent."""

    def __init__(self):
        self._lock = threading.Lock()
        self._received: list[ReceivedEnvelope] = []
        self._errors: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="sentry-endpoint", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def received(self) -> list[ReceivedEnvelope]:
        with self._lock:
            assert not self._errors, f"the endpoint got requests no Sentry SDK should send: {self._errors}"
            return list(self._received)

    def _handler_class(self):
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                match = ENVELOPE_PATH.fullmatch(self.path)
                encoding = self.headers.get("Content-Encoding", "")
                with endpoint._lock:
                    if match is None:
                        endpoint._errors.append(f"POST to unexpected path {self.path!r}")
                    elif encoding not in ("", "gzip"):
                        endpoint._errors.append(f"unsupported Content-Encoding {encoding!r}")
                    else:
                        data = gzip.decompress(body) if encoding == "gzip" else body
                        endpoint._received.append(ReceivedEnvelope(match["project"], data))
                self.send_response(200 if match else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format, *args):
                pass  # keep pytest's output for failures

        return Handler

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def sentry_endpoint():
    with EnvelopeEndpoint() as endpoint:
        yield endpoint


def reporting_to(endpoint: EnvelopeEndpoint) -> dict[str, str]:
    """The app's environment to send its events to ``endpoint``, as Sentry project 1."""
    # A proxy inherited from the caller's environment must not take the loopback traffic.
    return {"SENTRY_DSN": f"http://public@127.0.0.1:{endpoint.port}/1", "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}


def get_boom(base_url: str, request_id: str) -> tuple[int, str | None]:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", "/boom/", headers={"X-Request-ID": request_id, **BOOM_HEADERS})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("X-Request-ID")
    finally:
        connection.close()


def wait_for_error_event(endpoint: EnvelopeEndpoint) -> dict:
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while time.monotonic() < deadline:
        for received in endpoint.received():
            event = Envelope.deserialize(received.body).get_event()
            if event is not None:
                return event
        time.sleep(0.1)
    raise AssertionError(
        f"no error event reached the endpoint within {EVENT_WAIT_SECONDS}s "
        f"({len(endpoint.received())} other envelopes arrived)"
    )


def server_error_record(log_file: Path, request_id: str, client_request_id: str) -> list[str]:
    """The "Internal Server Error: /boom/" line for ``request_id`` (the server's), which the client sent as
    ``client_request_id``, and its TAB-indented traceback."""
    lines = log_file.read_text(encoding="utf-8").split("\n")
    header = re.compile(
        r"ERROR \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} log "
        rf"\[request_id={re.escape(request_id)} record_id=[0-9a-f]{{16}} client_request_id={re.escape(client_request_id)}{ORIGIN}\]"
        r" Internal Server Error: /boom/"
    )
    starts = [index for index, line in enumerate(lines) if header.fullmatch(line)]
    assert len(starts) == 1, f"expected one 'Internal Server Error: /boom/' line for {request_id} in {log_file}"
    record = [lines[starts[0]]]
    for line in lines[starts[0] + 1 :]:
        if not line.startswith("\t"):
            break
        record.append(line)
    return record


def test_unhandled_error_reaches_sentry_with_request_id_and_without_personal_data(tmp_path, sentry_endpoint):
    request_id = f"sentry-{uuid.uuid4().hex}"
    with running_app(
        tmp_path, **reporting_to(sentry_endpoint), SENTRY_ENVIRONMENT="test", SENTRY_RELEASE="test-release",
    ) as app:
        status, echoed_request_id = get_boom(app.base_url, request_id)
        event = wait_for_error_event(sentry_endpoint)
        envelopes = sentry_endpoint.received()
        log_record = server_error_record(app.log_dir / "django_debug.log", echoed_request_id, request_id)

    assert status == 500
    # The server's own id; the client's is kept in the logs as client_request_id.
    assert re.fullmatch(r"[0-9a-f]{32}", echoed_request_id)

    assert {envelope.project for envelope in envelopes} == {"1"}
    exception = event["exception"]["values"][-1]
    assert (exception["type"], exception["value"]) == ("RuntimeError", BOOM_MESSAGE)
    assert event["tags"]["request_id"] == echoed_request_id
    assert event["environment"] == "test"
    assert event["release"] == "test-release"

    # send_default_pii is off: no cookies, credentials or client address anywhere.
    for envelope in envelopes:
        for secret in (*SECRETS, CLIENT_IP.encode()):
            assert secret not in envelope.body, f"{secret!r} was sent to Sentry"
    request = event.get("request", {})
    assert "cookies" not in request
    assert request.get("url", "").endswith("/boom/")
    user = event.get("user", {})
    assert "ip_address" not in user, f"user IP sent to Sentry: {user}"
    assert CLIENT_IP not in user.values() and "127.0.0.1" not in user.values()

    # The event can be found in the logs by the same request id.
    assert any(line == f"\tRuntimeError: {BOOM_MESSAGE}" for line in log_record[1:]), log_record


def test_security_log_records_never_reach_sentry(tmp_path, sentry_endpoint):
    # A malformed X-Request-ID is logged by the security logger in the same request as the
    # error; without the ignore it would ride along as a breadcrumb.
    marker = "SECURITYMARKER leaked"
    with running_app(tmp_path, **reporting_to(sentry_endpoint)) as app:
        status, request_id = get_boom(app.base_url, marker)
        event = wait_for_error_event(sentry_endpoint)

    assert status == 500
    assert event["tags"]["request_id"] == request_id != marker
    assert marker in (app.log_dir / "security.log").read_text()
    breadcrumbs = event.get("breadcrumbs", {}).get("values", [])
    assert not [crumb for crumb in breadcrumbs if crumb.get("category", "").startswith(("security", "django.security"))]
    assert not [crumb for crumb in breadcrumbs if marker in str(crumb)]


def test_without_dsn_errors_are_still_logged(tmp_path):
    request_id = f"nosentry-{uuid.uuid4().hex}"
    # SENTRY_DSN is unset (running_app drops the caller's SENTRY_* variables).
    with running_app(tmp_path, SENTRY_ENVIRONMENT="test", SENTRY_RELEASE="test-release") as app:
        status, echoed_request_id = get_boom(app.base_url, request_id)
        log_record = server_error_record(app.log_dir / "django_debug.log", echoed_request_id, request_id)

    assert status == 500
    assert re.fullmatch(r"[0-9a-f]{32}", echoed_request_id)
    assert any(line == f"\tRuntimeError: {BOOM_MESSAGE}" for line in log_record[1:]), log_record


def test_without_dsn_the_sdk_is_never_initialised():
    # This process loaded the real settings with SENTRY_DSN unset (tests/django_env.py).
    from django.conf import settings

    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


# A failed login (its account name is often a password typed into the wrong field), then an error whose URL,
# headers and Referer hold secrets: sentry-sdk alone sends X-CSRFToken, the query string and the Referer
# (tests/test_sentry_scrubbing.py in the package shows it); config/sentry.py's scrub_event takes them out.
URL_SECRETS = (b"hunter2-password", b"WRONGPASSWORD9", b"QUERYSECRET1", b"QUERYSECRET2", b"HEADERSECRET1",
               b"HEADERSECRET2", b"REFERERSECRET1", b"REFERERSECRET2")


def wait_for_transactions(endpoint: EnvelopeEndpoint, count: int) -> list[dict]:
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while time.monotonic() < deadline:
        transactions = [item.payload.json for received in endpoint.received()
                        for item in Envelope.deserialize(received.body).items if item.type == "transaction"]
        if len(transactions) >= count:
            return transactions
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} transactions reached the endpoint within {EVENT_WAIT_SECONDS}s")


def test_no_secret_of_a_failed_login_or_a_url_reaches_sentry(tmp_path, sentry_endpoint):
    from myapp.traffic import Session

    with running_app(
        tmp_path,
        **reporting_to(sentry_endpoint),
        # Request bodies and transactions too: the failed login's form is in its transaction.
        SENTRY_MAX_REQUEST_BODY_SIZE="always",
        SENTRY_TRACES_SAMPLE_RATE="1.0",
    ) as app:
        visitor = Session(app.base_url, "sentry-test", timeout=10)
        assert visitor.login("hunter2-password", "WRONGPASSWORD9") == 200
        status, _ = visitor.request("/boom/?password=QUERYSECRET1&token=QUERYSECRET2&page=2", headers={
            "X-CSRFToken": "HEADERSECRET1", "X-Api-Key": "HEADERSECRET2",
            "Referer": "https://mail.example/reset/MQ/REFERERSECRET1/?code=REFERERSECRET2&lang=fr",
        })
        event = wait_for_error_event(sentry_endpoint)
        transactions = wait_for_transactions(sentry_endpoint, 3)
        envelopes = sentry_endpoint.received()

    assert status == 500
    for envelope in envelopes:
        for secret in URL_SECRETS:
            assert secret not in envelope.body, f"{secret!r} was sent to Sentry"
    assert event["exception"]["values"][-1]["value"] == BOOM_MESSAGE
    assert event["request"]["query_string"] == "password=[REDACTED]"  # cut after the first secret
    assert event["request"]["headers"]["Referer"] == "https://mail.example/reset/MQ/[REDACTED]/?code=[REDACTED]&lang=fr"
    [login_post] = [t for t in transactions if t["transaction"] == "/accounts/login/" and t["request"]["method"] == "POST"]
    assert login_post["request"]["data"] == {"csrfmiddlewaretoken": "[REDACTED]", "username": "[REDACTED]",
                                             "password": "[REDACTED]"}
