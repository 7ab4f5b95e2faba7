"""Requests through the package switched on in a minimal project: request ids, security events, routing.

The lines are read back from the files the package's handler wrote, with the line contract
(log_lines.py) written out here as regular expressions.
"""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

TIMESTAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}"
RECORD_ID = r"[0-9a-f]{16}"
REQUEST_ID = r"[0-9a-f]{32}"
# A context value (log_lines._render_value): bare, or quoted.
VALUE = r'(?:[A-Za-z0-9._:/@+-]+|"[^"]*")'
# Where and who (log_lines.ORIGIN_FIELDS, identity.py), ending every context; test_origin_fields.py checks the values.
ORIGIN = rf" logger={VALUE} file={VALUE} line=[0-9]+ function={VALUE} pid=[0-9]+ host={VALUE} service={VALUE}"


class Tail:
    """What the handlers append to the log files from now on."""

    def __init__(self):
        self.offsets = {name: self._size(name) for name in ("django_debug.log", "security.log")}

    @staticmethod
    def _size(name: str) -> int:
        path = settings.LOG_DIR / name
        return path.stat().st_size if path.exists() else 0

    def lines(self, name: str) -> list[str]:
        path = settings.LOG_DIR / name
        with open(path, "rb") as handle:
            handle.seek(self.offsets[name])
            return handle.read().decode("utf-8").splitlines()


@pytest.fixture
def tail() -> Tail:
    return Tail()


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="s3cret-Pass-42")


def test_a_view_line_carries_the_request_id_the_response_returns(tail):
    response = Client().get("/")

    request_id = response["X-Request-ID"]
    assert re.fullmatch(REQUEST_ID, request_id)
    assert response.content.decode() == request_id
    [line] = tail.lines("django_debug.log")
    assert re.fullmatch(
        rf"INFO {TIMESTAMP} urls_for_tests \[request_id={request_id} record_id={RECORD_ID}{ORIGIN}\] hello from a view", line
    ), line
    assert tail.lines("security.log") == []


def test_a_client_request_id_is_kept_beside_the_servers_own_and_a_malformed_one_is_a_security_event(tail):
    kept = Client().get("/", HTTP_X_REQUEST_ID="upstream-id-0001")
    replaced = Client().get("/", HTTP_X_REQUEST_ID="bad id\nINFO forged", HTTP_USER_AGENT="agent/1")

    server_id = kept["X-Request-ID"]
    assert re.fullmatch(REQUEST_ID, server_id) and kept.content.decode() == server_id
    [view_line, _] = tail.lines("django_debug.log")
    assert re.fullmatch(
        rf"INFO {TIMESTAMP} urls_for_tests \[request_id={server_id} record_id={RECORD_ID} "
        rf"client_request_id=upstream-id-0001{ORIGIN}\] hello from a view", view_line), view_line
    new_id = replaced["X-Request-ID"]
    assert re.fullmatch(REQUEST_ID, new_id) and new_id != server_id
    [event] = tail.lines("security.log")
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} request_context \[request_id={new_id} record_id={RECORD_ID} "
        r"event=malformed_request_id event_code=input_validation_fail client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 "
        rf"path=/ user_agent=agent/1{ORIGIN}\] Rejected malformed X-Request-ID header: bad id\\nINFO forged",
        event,
    ), event


def test_a_client_request_id_can_never_become_the_request_id(tail):
    # Two unrelated requests sending one id: each still gets an id of its own.
    first = Client().get("/", HTTP_X_REQUEST_ID="shared-id-0001")
    second = Client().get("/", HTTP_X_REQUEST_ID="shared-id-0001")

    assert len({first["X-Request-ID"], second["X-Request-ID"], "shared-id-0001"}) == 3
    lines = tail.lines("django_debug.log")
    assert [re.search(r"\[request_id=(\S+) ", line)[1] for line in lines] == [first["X-Request-ID"],
                                                                          second["X-Request-ID"]]
    assert all(" client_request_id=shared-id-0001 logger=" in line for line in lines), lines


def test_logins_logouts_and_failures_are_security_events_with_the_user(alice, tail):
    client = Client()
    assert client.login(username="alice", password="s3cret-Pass-42")
    client.logout()
    assert not client.login(username="alice\u2028root", password="wrong")

    events = tail.lines("security.log")
    # Client.login and logout call auth directly, outside a request: no request id, no client.
    expected = [
        rf"INFO {TIMESTAMP} signals \[request_id=- record_id={RECORD_ID} event=user_logged_in event_code=authn_login_success user=alice{ORIGIN}\] "
        r"User logged in: alice",
        rf"INFO {TIMESTAMP} signals \[request_id=- record_id={RECORD_ID} event=user_logged_out event_code=session_expired user=alice{ORIGIN}\] "
        r"User logged out: alice",
        rf"WARNING {TIMESTAMP} signals \[request_id=- record_id={RECORD_ID} event=user_login_failed event_code=authn_login_fail "
        rf"user=\"alice\\u2028root\"{ORIGIN}\] Login failed: alice\\u2028root",
    ]
    assert len(events) == len(expected), events
    for pattern, line in zip(expected, events, strict=True):
        assert re.fullmatch(pattern, line), line
    assert "s3cret" not in "\n".join(events) and "wrong" not in "\n".join(events)


def test_a_login_inside_a_request_records_the_client(alice, tail):
    client = Client(HTTP_USER_AGENT="agent/2", REMOTE_ADDR="192.0.2.7")
    response = client.post("/login", {"username": "alice", "password": "s3cret-Pass-42"})

    assert response.status_code == 200
    [event] = tail.lines("security.log")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(
        rf"INFO {TIMESTAMP} signals \[request_id={request_id} record_id={RECORD_ID} event=user_logged_in event_code=authn_login_success "
        rf"user=alice client_ip=192\.0\.2\.7 peer_ip=192\.0\.2\.7 path=/login user_agent=agent/2{ORIGIN}\] User logged in: alice",
        event,
    ), event


def test_an_exception_in_a_view_is_one_record_with_its_traceback_indented(tail):
    response = Client(raise_request_exception=False).get("/boom")

    assert response.status_code == 500
    [first, *continuation] = "\n".join(tail.lines("django_debug.log")).split("\n")
    assert re.fullmatch(
        rf"ERROR {TIMESTAMP} log \[request_id={response['X-Request-ID']} record_id={RECORD_ID}{ORIGIN}\] "
        r"Internal Server Error: /boom",
        first,
    ), first
    assert continuation and all(line.startswith("\t") for line in continuation)
    assert continuation[-1] == "\tRuntimeError: this view fails on purpose"
