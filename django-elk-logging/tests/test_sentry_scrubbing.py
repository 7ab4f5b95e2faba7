"""sentry.scrub_event through the SDK's real HTTP transport: a project under real gunicorn sends its events (and
transactions) to an envelope endpoint on loopback, and no secret of the request is in the bytes it receives,
while the events are there. The same project without scrub_event shows what sentry-sdk alone lets through."""

import gzip
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sentry_sdk.envelope import Envelope

from projects import new_project
from servers import environment, free_port, request, serving

SETTINGS = """
import logging
import os

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from django_elk_logging.logging_settings import elk_logging
from django_elk_logging.sentry import ignore_security_loggers, scrub_event, scrubbing

ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions", "django_elk_logging"]
MIDDLEWARE = [
    "django_elk_logging.request_context.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
LOGGING = elk_logging(BASE_DIR / "logs")


def project_before_send(event, hint):
    event.setdefault("tags", {})["project_hook"] = "ran"
    return event


SCRUB = os.environ["SCRUB"] == "1"
ignore_security_loggers()
sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    send_default_pii=False,
    max_request_body_size="always",
    traces_sample_rate=1.0,
    integrations=[DjangoIntegration(), LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
    before_send=scrubbing(project_before_send) if SCRUB else project_before_send,
    before_send_transaction=scrub_event if SCRUB else None,
)
"""
URLS = """
import logging

from django.contrib.auth import authenticate
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def reset_boom(request, uidb64, token):
    logging.getLogger("shop").info("about to fail")
    raise RuntimeError("the reset view fails on purpose")


@csrf_exempt
def login_then_boom(request):
    username = request.POST["username"]
    user = authenticate(request, username=username, password=request.POST["password"])
    raise RuntimeError(f"after a failed login ({user is None})")


urlpatterns = [path("reset/<uidb64>/<token>/", reset_boom), path("login-then-boom/", login_then_boom)]
"""
RESET_TARGET = "/reset/MQ/c4p5zs-PATHSECRET1/?password=QUERYSECRET1&token=QUERYSECRET2&page=2"
HEADERS = {
    "X-CSRFToken": "HEADERSECRET1",
    "X-Api-Key": "HEADERSECRET2",
    "X-Auth-Token": "HEADERSECRET3",
    "Referer": "https://mail.example/reset/MQ/REFERERSECRET1/?code=REFERERSECRET2&lang=fr",
}
FAILED_LOGIN = b"username=hunter2-password&password=PASSWORDSECRET1"
SECRETS = (b"PATHSECRET1", b"QUERYSECRET1", b"QUERYSECRET2", b"HEADERSECRET1", b"HEADERSECRET2", b"HEADERSECRET3",
           b"REFERERSECRET1", b"REFERERSECRET2", b"hunter2-password", b"PASSWORDSECRET1")
WAIT_SECONDS = 20


class EnvelopeEndpoint(ThreadingHTTPServer):
    """Sentry's ingest endpoint on loopback: keeps each envelope's bytes, decompressed."""

    def __init__(self):
        self.bodies: list[bytes] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.bodies.append(gzip.decompress(body) if handler.headers.get("Content-Encoding") == "gzip" else body)
                handler.send_response(200)
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def items(self, kind: str) -> list[dict]:
        found = []
        for body in list(self.bodies):
            found += [json.loads(item.get_bytes()) for item in Envelope.deserialize(body).items if item.type == kind]
        return found


def sentry_run(folder, scrub: bool) -> tuple[list[bytes], list[dict], list[dict]]:
    """Both requests through real gunicorn; the envelopes' bytes, the error events and the transactions."""
    project = new_project(folder, SETTINGS, urls=URLS)
    endpoint = EnvelopeEndpoint()
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    env = environment(folder, DJANGO_SETTINGS_MODULE="project_settings", SCRUB="1" if scrub else "0",
                      SENTRY_DSN=f"http://public@127.0.0.1:{endpoint.server_address[1]}/1",
                      NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    try:
        subprocess.run([sys.executable, "-m", "django", "migrate", "--verbosity", "0"], cwd=project.folder, env=env,
                       check=True, timeout=120)
        port = free_port()
        command = ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "project_settings:application"]
        project.write("project_settings.py", (project.folder / "project_settings.py").read_text()
                      + "\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n")
        with serving(command, port, env, project.folder):
            assert request(port, "GET", RESET_TARGET, HEADERS)[0] == 500
            assert request(port, "POST", "/login-then-boom/?next=/home", {
                **HEADERS, "Content-Type": "application/x-www-form-urlencoded"}, FAILED_LOGIN)[0] == 500
            deadline = time.monotonic() + WAIT_SECONDS
            while len(endpoint.items("event")) < 2 or len(endpoint.items("transaction")) < 2:
                assert time.monotonic() < deadline, f"{len(endpoint.bodies)} envelopes after {WAIT_SECONDS} s"
                time.sleep(0.1)
    finally:
        endpoint.shutdown()
        endpoint.server_close()
    return list(endpoint.bodies), endpoint.items("event"), endpoint.items("transaction")


@pytest.fixture(scope="module")
def scrubbed(tmp_path_factory):
    return sentry_run(tmp_path_factory.mktemp("sentry-scrubbed"), scrub=True)


def test_no_secret_reaches_sentry(scrubbed):
    bodies, _, _ = scrubbed
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body, f"{secret!r} was sent to Sentry"


def test_the_events_are_still_there_with_the_names_and_the_projects_hook(scrubbed):
    _, events, transactions = scrubbed
    login, reset = sorted(events, key=lambda event: event["exception"]["values"][-1]["value"])

    assert reset["exception"]["values"][-1]["value"] == "the reset view fails on purpose"
    assert login["exception"]["values"][-1]["value"] == "after a failed login (True)"
    assert reset["request"]["url"].startswith("http://127.0.0.1:")
    assert reset["request"]["url"].endswith("/reset/MQ/[REDACTED]/")
    # Cut after the first secret: under ASGI the SDK sends the query decoded (test_sentry_scrub_event.py).
    assert reset["request"]["query_string"] == "password=[REDACTED]"
    headers = reset["request"]["headers"]
    assert (headers["X-Csrftoken"], headers["X-Auth-Token"], headers["Referer"]) == (
        "[REDACTED]", "[REDACTED]", "https://mail.example/reset/MQ/[REDACTED]/?code=[REDACTED]&lang=fr")
    assert login["request"]["data"] == {"username": "[REDACTED]", "password": "[REDACTED]"}
    assert {event["tags"]["project_hook"] for event in events} == {"ran"}
    assert {transaction["transaction"] for transaction in transactions} == {"/reset/{uidb64}/{token}/",
                                                                             "/login-then-boom/"}
    assert {transaction["request"]["query_string"] for transaction in transactions} == {
        "password=[REDACTED]", "next=/home"}


def test_without_scrub_event_sentry_sdk_lets_the_secrets_through(tmp_path):
    # send_default_pii is off: what reaches Sentry here is what scrub_event is for.
    bodies, _, _ = sentry_run(tmp_path, scrub=False)
    sent = b"".join(bodies)

    leaked = {secret for secret in SECRETS if secret in sent}
    assert {b"HEADERSECRET1", b"HEADERSECRET3", b"QUERYSECRET1", b"REFERERSECRET1", b"PATHSECRET1",
            b"hunter2-password"} <= leaked, leaked


LOGS_DRIVER = """
import logging, os
import sentry_sdk
from django_elk_logging.sentry import ignore_security_loggers, scrub_event

ignore_security_loggers()
sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], enable_logs=True, before_send_log=scrub_event)
logging.basicConfig(level=logging.INFO)
logging.getLogger("django.request").warning("Not Found: %s", "/reset/MQ/c4p5zs-LOGSECRET1/")
logging.getLogger("shop").info("redirecting to %s", "/login/?next=/x&token=LOGSECRET2")
sentry_sdk.flush(timeout=10)
"""


def test_sentry_logs_get_the_same_scrubbing_as_before_send_log():
    endpoint = EnvelopeEndpoint()
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    try:
        env = environment(SENTRY_DSN=f"http://public@127.0.0.1:{endpoint.server_address[1]}/1",
                          NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        subprocess.run([sys.executable, "-c", LOGS_DRIVER], env=env, check=True, timeout=60)
    finally:
        endpoint.shutdown()
        endpoint.server_close()

    assert not [body for body in endpoint.bodies if b"LOGSECRET" in body]
    logs = [log for batch in endpoint.items("log") for log in batch["items"]]
    assert [log["body"] for log in logs] == ["Not Found: /reset/MQ/[REDACTED]/",
                                              "redirecting to /login/?next=/x&token=[REDACTED]"]
