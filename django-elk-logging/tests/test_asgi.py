"""Under ASGI: Django's AsyncClient in process, and real servers on loopback (uvicorn, and gunicorn with
uvicorn's worker) under concurrent requests. Each record carries its own request's id, Django's 4xx
records too, nothing leaks between requests, the access line is the package's, and no client chooses
the address the logs record."""

import asyncio
import logging
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import AsyncClient

from django_elk_logging.asgi import AccessLogMiddleware
from django_elk_logging.log_files import AppendOnlyFileHandler
from django_elk_logging.logging_settings import ACCESS_LOGGER
from servers import environment, free_port, request, serving
from test_request_events import ORIGIN, RECORD_ID, REQUEST_ID, TIMESTAMP, Tail

ACCESS_LINE = re.compile(
    r'(?P<client>\S+) - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "(?P<request>[^"]*)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+) "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)" (?P<duration_ns>\d+) '
    r'(?P<request_id>\S+) (?P<record_id>[0-9a-f]{16}) (?P<peer>\S+)'
    r' (?P<pid>[0-9]+) (?P<host>\S+) (?P<service>\S+) (?P<service_version>\S+) (?P<environment>\S+)'
)
CONCURRENT_REQUESTS = 48
FORGED_ADDRESS = "203.0.113.66"


def record(level: str, module: str, request_id: str, message: str, context: str = "") -> re.Pattern:
    return re.compile(rf"{level} {TIMESTAMP} {module} \[request_id={re.escape(request_id)} record_id={RECORD_ID}"
                      rf"{context}{ORIGIN}\] {message}")


@pytest.fixture
def tail() -> Tail:
    return Tail()


# ---- Django's AsyncClient --------------------------------------------------------------------------------


def test_async_view_records_and_a_404_carry_the_request_id_the_response_returns(tail):
    async def requests():
        client = AsyncClient()
        return await client.get("/async", {"tag": "t1"}), await client.get("/missing")

    found, missing = asyncio.run(requests())

    assert found.status_code == 200 and missing.status_code == 404
    assert re.fullmatch(REQUEST_ID, found["X-Request-ID"]) and re.fullmatch(REQUEST_ID, missing["X-Request-ID"])
    assert found["X-Request-ID"] != missing["X-Request-ID"]
    lines = tail.lines("django_debug.log")
    expected = [
        record("INFO", "urls_for_tests", found["X-Request-ID"], "async start t1"),
        record("INFO", "urls_for_tests", found["X-Request-ID"], "async end t1"),
        # Logged by Django after the middleware chain returned (django/core/handlers/base.py).
        record("WARNING", "log", missing["X-Request-ID"], "Not Found: /missing"),
    ]
    assert len(lines) == len(expected), lines
    for pattern, line in zip(expected, lines, strict=True):
        assert pattern.fullmatch(line), line


def test_a_malformed_request_id_is_one_security_event_with_the_client(tail):
    async def requests():
        return await AsyncClient().get("/async", {"tag": "t2"}, headers={"X-Request-ID": "bad id", "User-Agent": "a/1"})

    response = asyncio.run(requests())

    [event] = tail.lines("security.log")
    assert record(
        "WARNING", "request_context", response["X-Request-ID"], r"Rejected malformed X-Request-ID header: bad id",
        r" event=malformed_request_id event_code=input_validation_fail client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1"
        r" path=/async user_agent=a/1",
    ).fullmatch(event), event


@pytest.mark.django_db(transaction=True)
def test_a_failed_login_under_asgi_records_the_request_and_the_client(tail):
    async def requests():
        return await AsyncClient().post("/login", {"username": "mallory", "password": "x"}, headers={"User-Agent": "a/2"})

    response = asyncio.run(requests())

    assert response.status_code == 403
    failed, forbidden = tail.lines("security.log")
    assert record(
        "WARNING", "signals", response["X-Request-ID"], "Login failed: mallory",
        r" event=user_login_failed event_code=authn_login_fail user=mallory client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1"
        r" path=/login user_agent=a/2",
    ).fullmatch(failed), failed
    # Django logs the 403 after the middleware chain has returned: the context is still the request's.
    assert record(
        "WARNING", "log", response["X-Request-ID"], "Forbidden: /login",
        r" event=permission_denied event_code=authz_fail client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path=/login"
        r" user_agent=a/2",
    ).fullmatch(forbidden), forbidden


def test_a_blocked_address_is_refused_under_asgi(settings, tail):
    settings.BLOCKED_IPS = ["127.0.0.0/8"]

    response = asyncio.run(AsyncClient().get("/async", {"tag": "t3"}))

    assert response.status_code == 403
    [event] = tail.lines("security.log")
    assert record(
        "WARNING", "ip_blocking", response["X-Request-ID"],
        r"Refused a request from blocked address 127\.0\.0\.1 \(BLOCKED_IPS entry 127\.0\.0\.0/8\)",
        r" event=blocked_ip client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path=/async",
    ).fullmatch(event), event
    assert tail.lines("django_debug.log") == []


class SyncOnlyMiddleware:
    sync_capable, async_capable = True, False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


def adaptations(settings, caplog, middleware: list[str]) -> list[str]:
    """What Django logs (at DEBUG) as it builds the ASGI handler's chain: each thread switch it adds."""
    settings.DEBUG = True
    settings.BLOCKED_IPS = ["203.0.113.0/24"]  # so BlockedIPMiddleware is in the chain
    settings.MIDDLEWARE = middleware
    caplog.set_level(logging.DEBUG, logger="django.request")
    ASGIHandler()
    return [entry.getMessage() for entry in caplog.records if "adapted" in entry.getMessage()]


def test_an_all_async_chain_with_the_package_needs_no_thread_switch(settings, caplog):
    ours = ["django_elk_logging.request_context.RequestIdMiddleware", "django_elk_logging.ip_blocking.BlockedIPMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django_elk_logging.auth_events.AuthEventsMiddleware"]

    assert adaptations(settings, caplog, ours) == []
    # The same check sees a sync-only middleware, below which Django switches threads.
    found = adaptations(settings, caplog, [*ours, f"{__name__}.SyncOnlyMiddleware"])
    assert found == [f"Asynchronous handler adapted for middleware {__name__}.SyncOnlyMiddleware."]


# ---- uvicorn ------------------------------------------------------------------------------------------------


def concurrent_requests(port: int) -> list[tuple[str, str, int, dict]]:
    """CONCURRENT_REQUESTS requests from 12 threads, alternately to the async and the sync view, each with
    its own X-Request-ID and token; every fourth also claims another address in X-Forwarded-For."""

    def one(number: int):
        view = "async" if number % 2 else "sync"
        token, request_id = f"T{number:03d}", f"client-request-{number:04d}"
        headers = {"X-Request-ID": request_id, "User-Agent": f"load/{number}"}
        if number % 4 == 0:
            headers["X-Forwarded-For"] = FORGED_ADDRESS
        status, answer, _ = request(port, "GET", f"/{view}?tag={token}&pause=0.{number % 5 + 1}", headers)
        return token, request_id, status, answer

    with ThreadPoolExecutor(max_workers=12) as pool:
        return list(pool.map(one, range(CONCURRENT_REQUESTS)))


BLOCKED_ADDRESS = "127.0.0.2"


def concurrent_security_requests(port: int) -> list[tuple[int, str, int, str]]:
    """24 requests from 8 threads, each with its own user agent and X-Request-ID: from 127.0.0.1 to a view
    that logs a security record after a pause, or from BLOCKED_ADDRESS (refused)."""

    def one(number: int):
        blocked = number % 3 == 0
        headers = {"X-Request-ID": f"security-request-{number:04d}", "User-Agent": f"prober/{number}"}
        status, answer, _ = request(port, "GET", f"/probe?tag=P{number:03d}&pause=0.{number % 4 + 1}", headers,
                                    source=BLOCKED_ADDRESS if blocked else None)
        return number, BLOCKED_ADDRESS if blocked else "127.0.0.1", status, answer["X-Request-ID"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(24)))


def check_each_security_event_belongs_to_its_request(lines: list[str], results) -> None:
    """Each event carries its own request's id, client address and user agent, under concurrency."""
    assert len(lines) == len(results)
    for number, address, status, request_id in results:
        client_request_id, agent = f"security-request-{number:04d}", f"prober/{number}"
        [line] = [line for line in lines if f"[request_id={request_id} " in line]
        context = (rf" client_ip={re.escape(address)} peer_ip={re.escape(address)} client_request_id={client_request_id}"
                   rf" path=/probe user_agent={re.escape(agent)}")
        if address == BLOCKED_ADDRESS:
            assert status == 403 and record(
                "WARNING", "ip_blocking", request_id, rf"Refused a request from blocked address {re.escape(address)} "
                rf"\(BLOCKED_IPS entry {re.escape(address)}/32\)", " event=blocked_ip" + context).fullmatch(line), line
        else:
            assert status == 200 and record("WARNING", "urls_for_tests", request_id, f"probe P{number:03d}",
                                            " event=security_event" + context).fullmatch(line), line


def check_each_record_belongs_to_its_request(lines: list[str], results) -> None:
    assert len(lines) == 2 * len(results)
    for token, client_request_id, status, answer in results:
        # The server's own id, and beside it in each record the one the client sent.
        request_id = answer["X-Request-ID"]
        assert status == 200 and re.fullmatch(REQUEST_ID, request_id), (status, request_id)
        mine = [line for line in lines if line.endswith(f" {token}")]
        assert len(mine) == 2, mine
        for line in mine:
            assert re.fullmatch(rf"INFO {TIMESTAMP} urls_for_tests \[request_id={request_id} record_id={RECORD_ID} "
                                rf"client_request_id={client_request_id}{ORIGIN}\] a?sync (start|end) {token}", line), line
    # The requests overlapped: the order in which they ended is not the order in which they started.
    starts = [line.rsplit(" ", 1)[1] for line in lines if " start " in line]
    ends = [line.rsplit(" ", 1)[1] for line in lines if " end " in line]
    assert starts != ends, "the requests ran one after another: the test proves nothing about concurrency"


def check_access_lines(lines: list[str], results) -> None:
    parsed = [ACCESS_LINE.fullmatch(line) for line in lines]
    assert all(parsed) and len(parsed) == len(results), lines
    by_id = {line["request_id"]: line for line in parsed}
    for token, _, _, answer in results:
        line = by_id[answer["X-Request-ID"]]
        # X-Forwarded-For from a peer that is no trusted proxy changes neither address.
        assert (line["status"], line["client"], line["peer"]) == ("200", "127.0.0.1", "127.0.0.1"), line.group()
        assert re.fullmatch(rf"GET /a?sync\?tag={token}&pause=0\.\d HTTP/1\.1", line["request"]), line.group()
        assert line["bytes"] == str(len(token))
        assert int(line["duration_ns"]) >= 100_000_000  # the view's pause is part of the duration
    assert len({line["record_id"] for line in parsed}) == len(parsed)


def read_lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def split_off(lines: list[str], marker: str) -> tuple[list[str], list[str]]:
    """The lines holding ``marker``, and the others."""
    return [line for line in lines if marker in line], [line for line in lines if marker not in line]


@pytest.fixture(scope="module")
def uvicorn_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("uvicorn")
    port = free_port()
    # As the README says to run it: only the package decides the client address, no second access line.
    command = ["uvicorn", "asgi_for_tests:application", "--host", "127.0.0.1", "--port", str(port),
               "--no-proxy-headers", "--no-access-log"]
    env = environment(log_dir=workdir / "logs", PACKAGE_TESTS_BLOCKED_IPS=BLOCKED_ADDRESS)
    with serving(command, port, env, workdir):
        results = concurrent_requests(port)
        malformed = request(port, "GET", "/async?tag=M", {"X-Request-ID": "bad id", "X-Forwarded-For": FORGED_ADDRESS})
        security = concurrent_security_requests(port)
    return workdir / "logs", results, malformed, security


def test_uvicorn_each_record_carries_its_own_request_id_under_concurrency(uvicorn_run):
    log_dir, results, _, _ = uvicorn_run
    malformed, concurrent = split_off(read_lines(log_dir / "django_debug.log"), " M")
    assert len(malformed) == 2
    check_each_record_belongs_to_its_request(concurrent, results)


def test_uvicorn_writes_the_packages_access_line_once_per_request(uvicorn_run):
    log_dir, results, (_, malformed_answer, _), security = uvicorn_run
    probes, rest = split_off(read_lines(log_dir / "access.log"), "/probe?")
    [malformed], concurrent = split_off(rest, "tag=M ")
    check_access_lines(concurrent, results)
    assert len(probes) == len(security)
    assert ACCESS_LINE.fullmatch(malformed)["request_id"] == malformed_answer["X-Request-ID"]


def test_uvicorn_security_events_and_refusals_carry_their_own_requests_context_under_concurrency(uvicorn_run):
    log_dir, _, _, security = uvicorn_run
    _, probes = split_off(read_lines(log_dir / "security.log"), "event=malformed_request_id")
    check_each_security_event_belongs_to_its_request(probes, security)


def test_uvicorn_records_the_connecting_address_not_a_forwarded_one(uvicorn_run):
    log_dir, _, (_, malformed_answer, _), _ = uvicorn_run
    [event], _ = split_off(read_lines(log_dir / "security.log"), "event=malformed_request_id")
    assert record(
        "WARNING", "request_context", malformed_answer["X-Request-ID"], "Rejected malformed X-Request-ID header: bad id",
        r" event=malformed_request_id event_code=input_validation_fail client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1"
        r" path=/async",
    ).fullmatch(event), event


# ---- gunicorn with uvicorn's worker -------------------------------------------------------------------------

def gunicorn_config(folder, worker_class: str, workers: int, extra: str = "") -> tuple[int, object, list[str]]:
    """A gunicorn config in ``folder`` with the package's two lines: its port, log folder and config option."""
    port, log_dir = free_port(), folder / "logs"
    (folder / "gunicorn.conf.py").write_text(f"""
from django_elk_logging.gunicorn import AccessLogger, log_config_dict

bind = "127.0.0.1:{port}"
workers = {workers}
worker_class = {worker_class!r}
control_socket_disable = True
logger_class = AccessLogger
logconfig_dict = log_config_dict({str(log_dir)!r})
{extra}""")
    return port, log_dir, ["--config", str(folder / "gunicorn.conf.py")]


@pytest.fixture(scope="module")
def gunicorn_uvicorn_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gunicorn-uvicorn")
    # The worker hands uvicorn this list of proxies whose X-Forwarded-For it believes: none.
    port, log_dir, config = gunicorn_config(workdir, "uvicorn_worker.UvicornWorker", 2, 'forwarded_allow_ips = ""\n')
    command = ["gunicorn", *config, "asgi_for_tests:application"]
    with serving(command, port, environment(log_dir=log_dir), workdir):
        results = concurrent_requests(port)
    return log_dir, results


def test_gunicorn_with_uvicorn_workers_keeps_each_record_with_its_request(gunicorn_uvicorn_run):
    log_dir, results = gunicorn_uvicorn_run
    check_each_record_belongs_to_its_request(read_lines(log_dir / "django_debug.log"), results)


def test_gunicorn_with_uvicorn_workers_writes_only_the_packages_access_lines(gunicorn_uvicorn_run):
    # uvicorn_worker gives uvicorn's access logger gunicorn's handlers: its own lines must not get in.
    log_dir, results = gunicorn_uvicorn_run
    check_access_lines(read_lines(log_dir / "access.log"), results)


def test_gunicorns_own_asgi_worker_writes_the_line_through_access_logger(tmp_path):
    # gunicorn 27's ASGI worker logs each request through its logger class (gunicorn/asgi/protocol.py).
    port, log_dir, config = gunicorn_config(tmp_path, "asgi", 1)
    env = environment(log_dir=log_dir, DJANGO_SETTINGS_MODULE="settings_for_tests")
    command = ["gunicorn", *config, "django.core.asgi:get_asgi_application()"]
    with serving(command, port, env, tmp_path):
        status, answer, _ = request(port, "GET", "/async?tag=G", {"X-Forwarded-For": FORGED_ADDRESS})

    [line] = read_lines(log_dir / "access.log")
    parsed = ACCESS_LINE.fullmatch(line)
    assert status == 200 and parsed, line
    assert (parsed["client"], parsed["request"], parsed["request_id"], parsed["peer"]) == (
        "127.0.0.1", "GET /async?tag=G HTTP/1.1", answer["X-Request-ID"], "127.0.0.1")


def test_under_gunicorns_own_asgi_worker_the_middleware_refuses_to_log_twice(tmp_path):
    _, log_dir, config = gunicorn_config(tmp_path, "asgi", 1)
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", *config, "asgi_for_tests:application"],
        cwd=tmp_path, env=environment(log_dir=log_dir), capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "gunicorn's own ASGI worker writes the access line itself" in result.stdout + result.stderr


# ---- AccessLogMiddleware around any ASGI app --------------------------------------------------------------------


@pytest.fixture
def access_file(tmp_path, monkeypatch):
    """The access logger writing to a file of this test's, through the package's handler."""
    handler = AppendOnlyFileHandler(tmp_path / "access.log")
    handler.setFormatter(logging.Formatter("%(message)s"))
    monkeypatch.setattr(logging.getLogger(ACCESS_LOGGER), "handlers", [handler])
    yield tmp_path / "access.log"
    handler.close()


def call(app, scope_changes=None, messages=({"type": "http.request"},)):
    scope = {"type": "http", "method": "POST", "path": "/p", "raw_path": b"/p", "query_string": b"a=1",
             "http_version": "2", "headers": [], "client": ("192.0.2.1", 5000), **(scope_changes or {})}
    incoming = list(messages)

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        pass

    asyncio.run(AccessLogMiddleware(app)(scope, receive, send))


async def fails_before_answering(scope, receive, send):
    raise RuntimeError("the app failed")


async def returns_without_answering(scope, receive, send):
    return None


async def waits_for_the_client(scope, receive, send):
    while (await receive())["type"] != "http.disconnect":
        pass


async def answers(scope, receive, send):
    await send({"type": "http.response.start", "status": 201, "headers": [(b"X-Request-ID", b"app-id-0001")]})
    await send({"type": "http.response.body", "body": b"abc", "more_body": True})
    await send({"type": "http.response.body", "body": b"de"})


@pytest.mark.parametrize(
    "app, status",
    [(returns_without_answering, "500"), (waits_for_the_client, "499"), (answers, "201")],
)
def test_the_status_is_the_answer_or_what_the_server_does_without_one(access_file, app, status):
    call(app)

    line = ACCESS_LINE.fullmatch(access_file.read_text().strip())
    assert line and line["status"] == status and line["client"] == line["peer"] == "192.0.2.1"
    assert line["request"] == "POST /p?a=1 HTTP/2"
    assert (line["bytes"], line["request_id"]) == (("5", "app-id-0001") if status == "201" else ("0", "-"))


def test_an_app_that_fails_is_logged_as_500_and_the_error_goes_on_to_the_server(access_file):
    with pytest.raises(RuntimeError, match="the app failed"):
        call(fails_before_answering)

    assert ACCESS_LINE.fullmatch(access_file.read_text().strip())["status"] == "500"


def test_a_hostile_request_line_and_headers_are_escaped(access_file):
    headers = [(b"user-agent", b'a "b"\x1b[31m'), (b"referer", b"x\r\ny")]
    call(answers, {"raw_path": b'/a"b\\c', "query_string": b"", "headers": headers})

    line = ACCESS_LINE.fullmatch(access_file.read_text().strip())
    assert line["request"] == r"POST /a\x22b\\c HTTP/2"
    assert (line["agent"], line["referrer"]) == (r"a \x22b\x22\x1b[31m", r"x\r\ny")


def test_other_scopes_pass_through_without_a_line(access_file):
    async def lifespan(scope, receive, send):
        assert scope["type"] == "lifespan"

    asyncio.run(AccessLogMiddleware(lifespan)({"type": "lifespan"}, None, None))

    assert access_file.read_text() == ""


def test_without_a_handler_or_disabled_it_refuses_to_start(monkeypatch, access_file):
    logger = logging.getLogger(ACCESS_LOGGER)
    monkeypatch.setattr(logger, "disabled", True)  # as dictConfig leaves it with disable_existing_loggers True
    with pytest.raises(RuntimeError, match="has no handler, or is disabled, so every access line would be lost"):
        AccessLogMiddleware(answers)
    monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setattr(logger, "handlers", [])
    with pytest.raises(RuntimeError, match="has no handler, or is disabled"):
        AccessLogMiddleware(answers)


async def answers_after_the_client_left(scope, receive, send):
    assert (await receive())["type"] == "http.disconnect"
    await answers(scope, receive, send)


def test_an_answer_begun_after_the_client_left_is_logged_as_499_with_nothing_sent(access_file):
    call(answers_after_the_client_left, messages=())

    line = ACCESS_LINE.fullmatch(access_file.read_text().strip())
    assert (line["status"], line["bytes"]) == ("499", "0")


def test_spaces_in_unquoted_fields_are_escaped_so_fields_stay_apart(access_file):
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default and takes its text as the client.
    async def answers_with_a_spaced_id(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-request-id", b"id with space")]})
        await send({"type": "http.response.body", "body": b""})

    call(answers_with_a_spaced_id, {"client": ("1.2.3.4 forged-field", 1)})

    line = ACCESS_LINE.fullmatch(access_file.read_text().strip())
    assert (line["client"], line["request_id"], line["peer"]) == (
        r"1.2.3.4\x20forged-field", r"id\x20with\x20space", r"1.2.3.4\x20forged-field")
