"""gunicorn's refusals and worker timeouts in security.log, from real gunicorn configured as the README shows.

Each refused request is sent over a raw socket; the status is the one gunicorn answered, the reason the text
gunicorn 27.0.1 gives its exception (gunicorn/http/errors.py), which shows the request's bytes as a Python
repr (so the line's own escaping doubles its backslashes).
"""

import re
import socket
import time

import pytest

from projects import new_project, readme_block
from servers import environment, free_port, request, serving, serving_on_socket

LIMITS = """
limit_request_line = 2000
limit_request_fields = 4
limit_request_field_size = 64
"""
CONFIG = """
from django_elk_logging.gunicorn import AccessLogger, log_config_dict

bind = "127.0.0.1:{port}"
workers = 1
timeout = {timeout}
control_socket_disable = True
logger_class = AccessLogger
logconfig_dict = log_config_dict({log_dir!r})
""" + LIMITS

# Written from the line contract (log_lines.py), not from the code under test.
LINE_START = r"WARNING \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} gunicorn_events \[request_id=- record_id=[0-9a-f]{16} "
REFUSAL_CONTEXT = "event=request_refused event_code=input_validation_fail client_ip=127.0.0.1"
# Where and who: the process that logged it; a service only where DJANGO_SETTINGS_MODULE names one.
ORIGIN = (r" logger=security\.gunicorn file=gunicorn_events\.py line=[0-9]+ function=(warning|critical) "
          rf"pid=(?P<pid>[0-9]+) host={re.escape(socket.gethostname())}(?: service=(?P<service>\S+))?\] ")


def refusal_line(status: str, reason: str, context: str = REFUSAL_CONTEXT) -> re.Pattern[str]:
    return re.compile(LINE_START + re.escape(context) + ORIGIN + re.escape(f"Refused by gunicorn with {status}: {reason}"))


def send_raw(port: int, data: bytes) -> bytes:
    """``data`` on a connection of its own; the status line gunicorn answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, f"gunicorn closed the connection without a status line: {answer!r}"
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("refusals")
    port = free_port()
    (workdir / "gunicorn.conf.py").write_text(CONFIG.format(port=port, timeout=30, log_dir=str(workdir)))
    command = ["gunicorn", "--config", str(workdir / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    with serving(command, port, environment(), workdir):
        yield port, workdir / "security.log"


# (request bytes, the status line gunicorn answers, the reason as the line shows it). gunicorn writes its
# warning before it answers (workers/base.py, handle_error), so the record is in the file once the answer came.
REFUSALS = {
    "request line over limit_request_line": (
        b"GET /" + b"a" * 2100 + b" HTTP/1.1\r\n\r\n",
        "414 URI Too Long", "Request Line is too large (2114 > 2000)",
    ),
    "CR, bidi and escape bytes in the request line": (
        b"GET /a\rb\xe2\x80\xae\x1b[31m HTTP/1.1\r\n\r\n",
        "400 Bad Request", "Invalid HTTP request line: 'GET /a\\\\rb\u00e2\\\\x80\u00ae\\\\x1b[31m HTTP/1.1'",
    ),
    "a reset link and a password in a request line gunicorn cannot parse": (
        b"GET /reset/MQ/c4p5zs-SECRET1/?password=SECRET2\r&page=2 HTTP/1.1\r\n\r\n",
        "400 Bad Request", "Invalid HTTP request line: 'GET /reset/MQ/[REDACTED]/?password=[REDACTED]&page=2 HTTP/1.1'",
    ),
    "a bare LF ending the request line": (
        b"GET /x HTTP/1.1\nWARNING 2026-01-01 00:00:00,000 forged [event=user_logged_in] x\r\n\r\n",
        "400 Bad Request", "Invalid HTTP request line: 'bare LF as line terminator'",
    ),
    "too many header fields": (
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % number for number in range(6)) + b"\r\n",
        "431 Request Header Fields Too Large", "limit request headers fields",
    ),
    "a header over limit_request_field_size": (
        b"GET / HTTP/1.1\r\nX-Long: " + b"b" * 100 + b"\r\n\r\n",
        "431 Request Header Fields Too Large", "limit request headers fields size",
    ),
    "bidi bytes in a header name": (
        b"GET / HTTP/1.1\r\nX\xe2\x80\xaeY: 1\r\n\r\n",
        "400 Bad Request", "Invalid HTTP header name: 'X\u00e2\\\\x80\u00aeY'",
    ),
    "a CR inside a header value": (
        b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",
        "400 Bad Request", "Invalid HTTP Header: 'X-A'",
    ),
    "an expectation gunicorn cannot meet": (
        b"GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n",
        "417 Expectation Failed", "Unable to comply with expectation: 'teapot'",
    ),
    "a transfer coding gunicorn does not know": (
        b"POST / HTTP/1.1\r\nTransfer-Encoding: br, chunked\r\n\r\n",
        "501 Bad Request", "Unsupported transfer coding: 'br, chunked'",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_request_is_one_security_record_with_the_status_gunicorn_answered(server, case):
    port, security_log = server
    data, status, reason = REFUSALS[case]
    before = lines(security_log)

    answered = send_raw(port, data)

    assert answered == f"HTTP/1.1 {status}".encode()
    [record] = lines(security_log)[len(before):]
    assert refusal_line(status, reason).fullmatch(record), record


def test_a_long_reason_is_cut_before_the_line_escapes_it(server):
    port, security_log = server
    before = lines(security_log)

    answered = send_raw(port, b"GET /" + b"\x01" * 1000 + b" HTTP/1.1\r\n\r\n")

    assert answered == b"HTTP/1.1 400 Bad Request"
    [record] = lines(security_log)[len(before):]
    # gunicorn's reason: "Invalid HTTP request line: 'GET /" (33 characters), then 1000 times "\x01" (4 each) and
    # " HTTP/1.1'", 4043 in all. The first 512 are kept: 119 whole "\x01" and "\x0"; 3531 are left out.
    kept = "Invalid HTTP request line: 'GET /" + "\\\\x01" * 119 + "\\\\x0"
    assert refusal_line("400 Bad Request", kept + "...[truncated 3531 chars]").fullmatch(record), record


def test_an_accepted_request_is_no_security_record(server):
    port, security_log = server
    before = lines(security_log)

    status, _, _ = request(port, "GET", "/fine")

    assert status == 200 and lines(security_log) == before


def test_a_refusal_carries_the_pid_of_the_worker_that_refused_it(server):
    port, security_log = server
    before = lines(security_log)

    send_raw(port, b"GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n")
    _, headers, _ = request(port, "GET", "/which-worker")

    [record] = lines(security_log)[len(before):]
    written = refusal_line("417 Expectation Failed", "Unable to comply with expectation: 'teapot'").fullmatch(record)
    # One worker: the app's own os.getpid() (wsgi_for_tests.py) is the refusing process's.
    assert written and written["pid"] == headers["X-Worker-Pid"], (record, headers)


def test_the_threaded_worker_logs_its_refusals_too(tmp_path):
    # gthread handles each connection in a thread of its pool (gunicorn/workers/gthread.py, handle): the
    # exception being handled is that thread's.
    port = free_port()
    config = CONFIG.format(port=port, timeout=30, log_dir=str(tmp_path)) + 'worker_class = "gthread"\nthreads = 2\n'
    (tmp_path / "gunicorn.conf.py").write_text(config)
    command = ["gunicorn", "--config", str(tmp_path / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    with serving(command, port, environment(), tmp_path):
        answered = send_raw(port, b"GET /" + b"a" * 2100 + b" HTTP/1.1\r\n\r\n")

    assert answered == b"HTTP/1.1 414 URI Too Long"
    [record] = lines(tmp_path / "security.log")
    assert refusal_line("414 URI Too Long", "Request Line is too large (2114 > 2000)").fullmatch(record), record


def test_on_a_unix_socket_a_refusal_has_no_client_ip(tmp_path):
    # handle_error logs the peer of a Unix socket as "" (gunicorn/workers/base.py: addr or ('', -1)).
    path = tmp_path / "gunicorn.sock"
    config = CONFIG.format(port=0, timeout=30, log_dir=str(tmp_path)).replace('"127.0.0.1:0"', f'"unix:{path}"')
    (tmp_path / "gunicorn.conf.py").write_text(config)
    command = ["gunicorn", "--config", str(tmp_path / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    with serving_on_socket(command, path, environment(), tmp_path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(20)
            sock.connect(str(path))
            sock.sendall(b"GET / HTTP/1.1\r\nX-Long: " + b"b" * 100 + b"\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")

    [record] = lines(tmp_path / "security.log")
    assert refusal_line("431 Request Header Fields Too Large", "limit request headers fields size",
                        "event=request_refused event_code=input_validation_fail").fullmatch(record), record


def test_a_slow_header_client_times_out_the_sync_worker_and_the_arbiter_logs_it(tmp_path):
    port = free_port()
    config = CONFIG.format(port=port, timeout=2, log_dir=str(tmp_path)) + f"pidfile = {str(tmp_path / 'arbiter.pid')!r}\n"
    (tmp_path / "gunicorn.conf.py").write_text(config)
    command = ["gunicorn", "--config", str(tmp_path / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    security_log = tmp_path / "security.log"
    with serving(command, port, environment(), tmp_path) as output:
        # gunicorn listens before its worker has booted and logged its pid (arbiter.py, spawn_worker).
        deadline = time.monotonic() + 30
        while not (booted := re.findall(r"Booting worker with pid: (\d+)", output.read_text())):
            assert time.monotonic() < deadline, f"no worker booted within 30 s:\n{output.read_text()}"
            time.sleep(0.1)
        [worker] = booted
        # The request line and a header, then nothing: the sync worker waits in recv(2) and stops beating.
        with socket.create_connection(("127.0.0.1", port), timeout=20) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n")
            deadline = time.monotonic() + 30
            while not lines(security_log):
                assert time.monotonic() < deadline, f"no worker_timeout within 30 s:\n{output.read_text()}"
                time.sleep(0.1)
        # gunicorn starts another worker, which serves.
        assert request(port, "GET", "/after")[0] == 200
        arbiter = (tmp_path / "arbiter.pid").read_text().strip()  # gunicorn/pidfile.py writes the arbiter's pid
    [record] = lines(security_log)
    written = re.fullmatch(
        LINE_START + re.escape("event=worker_timeout event_code=sys_crash") + ORIGIN
        + re.escape(f"Worker pid={worker} timed out (silent for over 2 s) and is killed by gunicorn"),
        record,
    )
    assert written, record
    # The arbiter wrote it, with its own pid: not the worker's it names.
    assert written["pid"] == arbiter != worker and written["service"] is None
    assert f"WORKER TIMEOUT (pid:{worker})" in output.read_text()


def test_in_a_django_worker_whose_logging_names_security_a_refusal_is_written_once(tmp_path):
    # elk_logging's LOGGING configures "security" in each worker, after gunicorn's log_config_dict: the
    # record then reaches security.log through Django's handler, not also through gunicorn's.
    project = new_project(tmp_path, """
        INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_elk_logging"]
        MIDDLEWARE = ["django_elk_logging.request_context.RequestIdMiddleware"]
        from django_elk_logging.logging_settings import elk_logging
        LOGGING = elk_logging(BASE_DIR / "logs")
    """)
    port = free_port()
    project.write("gunicorn.conf.py", readme_block("WSGI under gunicorn") + f'bind = "127.0.0.1:{port}"\n' + LIMITS)
    project.write("project_wsgi.py", "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n")

    with serving(["gunicorn", "project_wsgi"], port, environment(tmp_path, DJANGO_SETTINGS_MODULE="project_settings"),
                 tmp_path):
        answered = send_raw(port, b"GET / HTTP/1.1\r\nX-Long: " + b"b" * 100 + b"\r\n\r\n")

    assert answered == b"HTTP/1.1 431 Request Header Fields Too Large"
    [record] = project.lines("security.log")
    written = refusal_line("431 Request Header Fields Too Large", "limit request headers fields size").fullmatch(record)
    # The worker loaded Django: the service is the settings module's first component.
    assert written and written["service"] == "project_settings", record
