"""The sample app under gunicorn (app/gunicorn.conf.py): a request gunicorn refuses and a worker it kills reach
security.log, each once, in the package's line: the refusal through the worker's LOGGING (which names
"security"), the timeout through the arbiter's log_config_dict (the arbiter loads no Django)."""

import re
import socket
import time
import urllib.request

from tests.app.test_log_records import ORIGIN
from tests.support.app_server import running_app

TIMEOUT_SECONDS = 6
# Written from the line contract (django-elk-logging/src/django_elk_logging/log_lines.py), not from the code.
LINE_START = r"WARNING \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} gunicorn_events \[request_id=- record_id=[0-9a-f]{16} "


def security_lines(log_dir) -> list[str]:
    path = log_dir / "security.log"
    return path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []


def test_a_refused_request_and_a_worker_timeout_are_each_one_security_record(tmp_path):
    with running_app(tmp_path, workers=1, GUNICORN_TIMEOUT=str(TIMEOUT_SECONDS)) as app:
        [worker] = app.workers()
        before = security_lines(app.log_dir)
        with socket.create_connection((app.host, app.port), timeout=20) as refused:
            # A carriage return, a right-to-left override (its UTF-8 bytes) and an escape in the target.
            refused.sendall(b"GET /a\rb\xe2\x80\xae\x1b[31m HTTP/1.1\r\n\r\n")
            assert refused.recv(4096).startswith(b"HTTP/1.1 400 Bad Request\r\n")
        # A request line and a header, then nothing: the sync worker waits in recv(2) and stops beating.
        with socket.create_connection((app.host, app.port), timeout=30) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            deadline = time.monotonic() + TIMEOUT_SECONDS + 30
            while not any("event=worker_timeout" in line for line in security_lines(app.log_dir)):
                assert time.monotonic() < deadline, f"no worker_timeout in security.log:\n{app.output()}"
                time.sleep(0.1)
        # The worker gunicorn starts in its place serves.
        with urllib.request.urlopen(app.base_url + "/healthz", timeout=30) as response:
            assert response.status == 200
    refusal, timeout = security_lines(app.log_dir)[len(before):]

    assert re.fullmatch(
        LINE_START + re.escape("event=request_refused event_code=input_validation_fail client_ip=127.0.0.1") + ORIGIN
        + re.escape(
            "] Refused by gunicorn with "
            "400 Bad Request: Invalid HTTP request line: 'GET /a\\\\rb\u00e2\\\\x80\u00ae\\\\x1b[31m HTTP/1.1'"
        ),
        refusal,
    ), refusal
    assert re.fullmatch(
        LINE_START + re.escape("event=worker_timeout event_code=sys_crash") + ORIGIN
        + re.escape(
            f"] Worker pid={worker} timed out (silent for over "
            f"{TIMEOUT_SECONDS} s) and is killed by gunicorn"
        ),
        timeout,
    ), timeout
    # The arbiter, which loads no Django, names the service as the workers do (gunicorn.conf.py puts the app's
    # identity settings in its environment): one service.name for all the app's records.
    assert re.search(r" service=django-app[ \]]", refusal) and re.search(r" service=django-app[ \]]", timeout)
