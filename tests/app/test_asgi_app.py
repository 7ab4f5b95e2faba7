"""The sample app under real uvicorn (config/asgi.py): the pipeline reads its three files as it reads gunicorn's,
every line parses (grok and dates on Joni and Joda when jruby is here), and each document carries its request."""

import asyncio
import http.client
import logging
import re
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from django_elk_logging.asgi import AccessLogMiddleware
from django_elk_logging.log_files import AppendOnlyFileHandler
from django_elk_logging.logging_settings import ACCESS_LOGGER

from bench.gunicorn_runner import APP_DIR, free_port, migrate
from myapp.traffic import Session
from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_pipeline import Pipeline
from tests.support.app_server import app_environment
from tests.support.engines import engine_for_tests

START_TIMEOUT = 30
APP_TIME_ZONE = "Asia/Kathmandu"  # +05:45: a missing or wrong zone shows
FAILURE_TAGS = ("_grokparsefailure", "_dateparsefailure", "_record_cut", "_access_parsefailure")


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, {"LOGSTASH_WRITER_PASSWORD": "unused", "TIME_ZONE": APP_TIME_ZONE},
                                      engine=engine_for_tests())


@contextmanager
def serving_under_uvicorn(workdir, **env_overrides: str):
    """The app under uvicorn on a free loopback port (yielded) until the block ends, once /healthz answers."""
    (workdir / "log").mkdir()
    env = app_environment(workdir, TIME_ZONE=APP_TIME_ZONE, **env_overrides)
    migrate(env)
    port = free_port()
    with (workdir / "uvicorn.out").open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--no-proxy-headers", "--no-access-log"], cwd=APP_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, (workdir / "uvicorn.out").read_text()
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/healthz")
                assert probe.getresponse().status == 200
                probe.close()
                break
            except OSError:
                assert time.monotonic() < deadline, "uvicorn did not answer"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def uvicorn_app(tmp_path_factory):
    """The requests' answers and the log folder, after the app served them under uvicorn."""
    workdir = tmp_path_factory.mktemp("asgi-app")
    with serving_under_uvicorn(workdir) as port:
        visitor = Session(f"http://127.0.0.1:{port}/", "asgi-visitor/1", timeout=10)
        answers = {path: visitor.request(path)[0] for path in ("/", "/missing/", "/boom/", "/restricted/")}
        answers["failed login"] = visitor.login("mallory", "wrong")
    return answers, workdir / "log"


def test_every_line_the_app_wrote_under_uvicorn_parses(uvicorn_app, pipeline):
    answers, log_dir = uvicorn_app
    assert answers == {"/": 200, "/missing/": 404, "/boom/": 500, "/restricted/": 302, "failed login": 200}
    for name in ("django_debug.log", "security.log", "access.log"):
        documents = [document.source for _, document in pipeline.process_file(log_dir / name)]
        assert documents, f"{name} is empty"
        for source in documents:
            assert not set(source.get("tags", ())) & set(FAILURE_TAGS), (name, source)


def test_each_access_document_carries_its_request_and_the_client(uvicorn_app, pipeline):
    _, log_dir = uvicorn_app
    access = [document.source for _, document in pipeline.process_file(log_dir / "access.log")]
    app_ids = {source["http"]["request"]["id"] for name in ("django_debug.log", "security.log")
               for _, document in pipeline.process_file(log_dir / name) for source in [document.source]}

    by_path = {source["url"]["original"]: source for source in access}
    assert {path: by_path[path]["http"]["response"]["status_code"] for path in ("/", "/missing/", "/boom/")} == {
        "/": 200, "/missing/": 404, "/boom/": 500}
    assert {source["source"]["ip"] for source in access} == {"127.0.0.1"}
    assert "/healthz" not in by_path  # a successful probe is skipped, as under gunicorn
    # The 404's and the 500's records and their access lines share a request id.
    for path in ("/missing/", "/boom/"):
        assert by_path[path]["http"]["request"]["id"] in app_ids


def test_a_failed_login_under_uvicorn_is_a_security_event_with_user_and_address(uvicorn_app, pipeline):
    _, log_dir = uvicorn_app
    [failed] = [document.source for _, document in pipeline.process_file(log_dir / "security.log")
                if document.source.get("event", {}).get("action") == "user_login_failed"]

    assert failed["user"]["name"] == "mallory"
    assert failed["source"]["ip"] == "127.0.0.1"
    assert failed["user_agent"]["original"] == "asgi-visitor/1"


def test_an_access_line_without_a_client_address_parses_without_one(tmp_path, pipeline, monkeypatch):
    # An ASGI scope without "client", as a server on a Unix socket gives it: the line says "-".
    handler = AppendOnlyFileHandler(tmp_path / "access.log")
    handler.setFormatter(logging.Formatter("%(message)s"))
    monkeypatch.setattr(logging.getLogger(ACCESS_LOGGER), "handlers", [handler])

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": [(b"x-request-id", b"unix-socket-1")]})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        pass

    scope = {"type": "http", "method": "GET", "path": "/ping", "raw_path": b"/ping", "query_string": b"",
             "http_version": "1.1", "headers": [], "client": None}
    asyncio.run(AccessLogMiddleware(app)(scope, receive, send))
    handler.close()
    [(_, document)] = pipeline.process_file(tmp_path / "access.log")

    assert (tmp_path / "access.log").read_text().startswith("- - - [")
    assert "tags" not in document.source and "source" not in document.source
    assert document.source["http"]["request"]["id"] == "unix-socket-1"
    assert document.source["http"]["response"]["status_code"] == 204


def get(port: int, path: str, headers: dict[str, str], source: str) -> str:
    """GET ``path`` from the loopback address ``source``; the X-Request-ID answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.getheader("X-Request-ID")
    finally:
        connection.close()


def test_behind_a_trusted_proxy_the_client_is_resolved_and_the_peer_kept(tmp_path):
    # 127.0.0.1 is the proxy; 127.0.0.2 a client that is none. A malformed X-Request-ID makes a security event.
    with serving_under_uvicorn(tmp_path, DJANGO_TRUSTED_PROXIES="127.0.0.1/32", DJANGO_TRUSTED_PROXY_COUNT="1") as port:
        proxied = get(port, "/", {"X-Forwarded-For": "198.51.100.7", "X-Request-ID": "bad id"}, "127.0.0.1")
        forged = get(port, "/", {"X-Forwarded-For": "198.51.100.8", "X-Request-ID": "bad id"}, "127.0.0.2")
    access = (tmp_path / "log" / "access.log").read_text(encoding="utf-8").splitlines()
    security = (tmp_path / "log" / "security.log").read_text(encoding="utf-8").splitlines()

    def address_fields(request_id: str) -> tuple[str, str]:
        [line] = [line for line in access if f" {request_id} " in line]
        # The peer, then the five identity fields (access_lines.ACCESS_LOG_FORMAT).
        return line.split(" ", 1)[0], line.rsplit(" ", 6)[1]

    assert address_fields(proxied) == ("198.51.100.7", "127.0.0.1")
    assert address_fields(forged) == ("127.0.0.2", "127.0.0.2")
    for request_id, context in ((proxied, "client_ip=198.51.100.7 peer_ip=127.0.0.1"),
                                (forged, "client_ip=127.0.0.2 peer_ip=127.0.0.2")):
        [event] = [line for line in security if f"[request_id={request_id} " in line]
        assert re.search(rf" event=malformed_request_id event_code=input_validation_fail {re.escape(context)} path=/ "
                         r"logger=[^\]]+\] "
                         r"Rejected malformed X-Request-ID header: bad id$", event), event
