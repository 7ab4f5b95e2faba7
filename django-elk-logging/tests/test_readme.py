"""The package README's snippets, as written, in a project `django-admin startproject myproject` makes:
its settings lines, gunicorn.conf.py under real gunicorn, asgi.py under real uvicorn with the command line it
shows, and its Sentry lines through the SDK's real HTTP transport."""

import gzip
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sentry_sdk.envelope import Envelope

from projects import readme_block
from servers import environment, free_port, request, serving
from test_asgi import ACCESS_LINE
from test_request_events import ORIGIN, RECORD_ID, TIMESTAMP


@pytest.fixture(scope="module")
def startproject(tmp_path_factory) -> Path:
    """myproject, made by Django's own command, switched on with the README's settings lines."""
    folder = tmp_path_factory.mktemp("startproject")
    subprocess.run([sys.executable, "-m", "django", "startproject", "myproject", str(folder)], check=True, timeout=60)
    settings = folder / "myproject" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + readme_block("Switch it on"))
    (folder / "myproject" / "asgi.py").write_text(readme_block("ASGI (uvicorn, daphne, hypercorn, gunicorn's uvicorn worker)"))
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=folder, check=True, timeout=120,
                   env=environment())
    return folder


def check_one_request(folder: Path, answer: dict) -> None:
    request_id = answer["X-Request-ID"]
    [line] = (folder / "logs" / "access.log").read_text().splitlines()
    parsed = ACCESS_LINE.fullmatch(line)
    assert parsed and (parsed["request"], parsed["status"], parsed["request_id"]) == (
        "GET /nope/ HTTP/1.1", "404", request_id), line
    [record] = (folder / "logs" / "django_debug.log").read_text().splitlines()
    assert re.fullmatch(rf"WARNING {TIMESTAMP} log \[request_id={request_id} record_id={RECORD_ID}{ORIGIN}\] Not Found: /nope/",
                        record), record


def test_gunicorn_conf_as_the_readme_shows_it(startproject, tmp_path):
    folder = tmp_path / "project"
    subprocess.run(["cp", "-a", str(startproject), str(folder)], check=True)
    port = free_port()
    (folder / "gunicorn.conf.py").write_text(readme_block("WSGI under gunicorn") + f'bind = "127.0.0.1:{port}"\n')

    with serving(["gunicorn", "myproject.wsgi"], port, environment(folder), folder):
        status, answer, _ = request(port, "GET", "/nope/")

    assert status == 404
    check_one_request(folder, answer)


def test_asgi_py_and_the_uvicorn_command_as_the_readme_shows_them(startproject, tmp_path):
    folder = tmp_path / "project"
    subprocess.run(["cp", "-a", str(startproject), str(folder)], check=True)
    port = free_port()
    command = readme_block("ASGI (uvicorn, daphne, hypercorn, gunicorn's uvicorn worker)", "sh").split()
    assert command[0] == "uvicorn"

    with serving([*command, "--host", "127.0.0.1", "--port", str(port)], port, environment(folder), folder):
        status, answer, _ = request(port, "GET", "/nope/", {"X-Forwarded-For": "203.0.113.5"})

    assert status == 404
    check_one_request(folder, answer)
    assert ACCESS_LINE.fullmatch((folder / "logs" / "access.log").read_text().strip())["client"] == "127.0.0.1"


class EnvelopeEndpoint(ThreadingHTTPServer):
    """Sentry's ingest endpoint on loopback: keeps the events of the envelopes it is sent."""

    def __init__(self):
        self.events: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                if handler.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                event = Envelope.deserialize(body).get_event()
                if event is not None:
                    self.events.append(event)
                handler.send_response(200)
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


SENTRY_DRIVER = """
import logging
logging.basicConfig(level=logging.INFO)
logging.getLogger("security").warning("Login failed: SECURITY-MARKER-1")
logging.getLogger("django.security.csrf").warning("Forbidden (CSRF): SECURITY-MARKER-2")
logging.getLogger("myproject.orders").error("an ordinary error")
sentry_sdk.flush(timeout=10)
"""


def test_the_sentry_lines_keep_security_records_out_of_sentry():
    endpoint = EnvelopeEndpoint()
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    try:
        env = environment(SENTRY_DSN=f"http://public@127.0.0.1:{endpoint.server_address[1]}/1", NO_PROXY="127.0.0.1")
        subprocess.run([sys.executable, "-c", readme_block("Sentry") + SENTRY_DRIVER], env=env, check=True, timeout=60)
    finally:
        endpoint.shutdown()
        endpoint.server_close()

    [event] = endpoint.events
    assert event["logentry"]["message"] == "an ordinary error"
    assert "SECURITY-MARKER" not in str(event), "a security record reached Sentry (event or breadcrumb)"
