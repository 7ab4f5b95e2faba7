"""Exact log line shapes, written by the real Django app through its real LOGGING config."""

import codecs
import io
import logging
import re
import urllib.parse

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "Sup3r-Secret-Passw0rd!"
TIMESTAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}"
HEX_ID = r"[0-9a-f]{32}"
RECORD_ID = r"[0-9a-f]{16}"
# Where and who, ending every context (log_lines.ORIGIN_FIELDS, then the identity): a value bare or quoted.
VALUE = r'(?:[A-Za-z0-9._:/@+-]+|"[^"]*")'
ORIGIN = (rf" logger={VALUE} file={VALUE} line=[0-9]+ function={VALUE} pid=[0-9]+ host={VALUE} service={VALUE}"
          rf"(?: service_version={VALUE})?(?: environment={VALUE})?")


def app_line(level: str, module: str, request_id: str, message: str) -> re.Pattern:
    return re.compile(
        rf"{level} {TIMESTAMP} {module} \[request_id={request_id} record_id={RECORD_ID}{ORIGIN}\] {re.escape(message)}"
    )


# The OWASP Logging Vocabulary's identifiers of the events these tests see.
OWASP_CODES = {"user_logged_in": "authn_login_success", "user_logged_out": "session_expired",
               "user_login_failed": "authn_login_fail", "permission_denied": "authz_fail",
               "disallowed_host": "input_validation_fail"}


def security_line(level, module, request_id, event, message, user=None, path="/accounts/login/", user_agent="pytest-agent"):
    user_part = f" user={user}" if user is not None else ""
    code_part = f" event_code={OWASP_CODES[event]}" if event in OWASP_CODES else ""
    return re.compile(
        rf"{level} {TIMESTAMP} {module} \[request_id={request_id} record_id={RECORD_ID} event={event}{code_part}{user_part}"
        rf" client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path={re.escape(path)} user_agent={re.escape(user_agent)}{ORIGIN}\]"
        rf" {re.escape(message)}"
    )


@pytest.fixture
def user():
    return User.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def client():
    return Client(HTTP_USER_AGENT="pytest-agent")


def test_hello_view_writes_the_seed_info_and_error_lines(client, app_logs):
    response = client.get("/")

    assert response.content == b"Hello, World!"
    request_id = response["X-Request-ID"]
    lines = app_logs.lines("django_debug.log")
    assert len(lines) == 2
    assert app_line("INFO", "views", request_id, "This is an info message").fullmatch(lines[0])
    assert app_line("ERROR", "views", request_id, "This is an error message").fullmatch(lines[1])
    assert app_logs.lines("security.log") == []


def test_not_found_is_logged_by_django_with_module_log(client, app_logs):
    response = client.get("/no/such/page")

    assert response.status_code == 404
    [line] = app_logs.lines("django_debug.log")
    assert app_line("WARNING", "log", response["X-Request-ID"], "Not Found: /no/such/page").fullmatch(line)


def test_arguments_django_escaped_are_escaped_once_so_one_decode_gives_the_path_back(client, app_logs):
    # Django 5.2's log_response escapes its arguments with unicode_escape (CVE-2025-48432).
    path = "/caf\u00e9/back\\slash/\r\nINFO 2026-11-26 12:00:00,000 views [request_id=x record_id=y] forged\u2028\u20ac"

    response = client.get(urllib.parse.quote(path))

    assert response.status_code == 404
    [line] = app_logs.lines("django_debug.log")
    logged = (
        "Not Found: /caf\u00e9/back\\\\slash/\\r\\nINFO 2026-11-26 12:00:00,000 views [request_id=x record_id=y] "
        "forged\\u2028\u20ac"
    )
    assert app_line("WARNING", "log", response["X-Request-ID"], logged).fullmatch(line)
    message = line.split("] ", 1)[1]
    assert codecs.decode(message.encode("latin-1", "backslashreplace"), "unicode_escape") == "Not Found: " + path


def test_server_error_is_one_record_followed_by_its_tab_indented_traceback(app_logs):
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    [record] = app_logs.records("django_debug.log")
    first, *traceback = record.split("\n")
    assert app_line("ERROR", "log", response["X-Request-ID"], "Internal Server Error: /boom/").fullmatch(first)
    assert traceback[0] == "\tTraceback (most recent call last):"
    assert traceback[-1] == "\tRuntimeError: Boom: this view fails on purpose"
    assert all(line.startswith("\t") for line in traceback)


def test_every_line_of_a_request_carries_its_request_id(client, app_logs):
    ids = {client.get("/")["X-Request-ID"] for _ in range(3)}

    lines = app_logs.lines("django_debug.log")
    assert len(ids) == 3
    assert len(lines) == 6
    for request_id in ids:
        assert sum(f"[request_id={request_id} " in line for line in lines) == 2


def test_lines_outside_a_request_carry_a_dash_request_id(app_logs):
    logging.getLogger("myapp").warning("Nightly job finished")

    [line] = app_logs.lines("django_debug.log")
    assert app_line("WARNING", "test_log_records", "-", "Nightly job finished").fullmatch(line)


def test_a_well_formed_incoming_request_id_is_kept_beside_the_servers_own(client, app_logs):
    response = client.get("/", HTTP_X_REQUEST_ID="upstream-trace.0042_abc")

    request_id = response["X-Request-ID"]
    assert re.fullmatch(HEX_ID, request_id)
    lines = app_logs.lines("django_debug.log")
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(rf"(INFO|ERROR) {TIMESTAMP} views \[request_id={request_id} record_id={RECORD_ID} "
                            rf"client_request_id=upstream-trace\.0042_abc{ORIGIN}\] This is an? (info|error) message", line), line


@pytest.mark.parametrize(
    "incoming, escaped",
    [
        ("short", "short"),
        ("has space in it", '"has space in it"'),
        ("x" * 129, "x" * 129),
        ("evil\nINFO forged", '"evil\\\\nINFO forged"'),
    ],
)
def test_malformed_incoming_request_id_is_replaced_and_reported(client, app_logs, incoming, escaped):
    response = client.get("/", HTTP_X_REQUEST_ID=incoming)

    request_id = response["X-Request-ID"]
    assert re.fullmatch(HEX_ID, request_id)
    assert request_id != incoming
    [line] = app_logs.lines("security.log")
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} request_context \[request_id={request_id} record_id={RECORD_ID} "
        rf"event=malformed_request_id event_code=input_validation_fail client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path=/ "
        rf"user_agent=pytest-agent{ORIGIN}\] "
        r"Rejected malformed X-Request-ID header: .*",
        line,
    )
    assert line.endswith("header: " + incoming.replace("\n", "\\n"))
    assert len(app_logs.lines("django_debug.log")) == 2


def test_login_logout_and_failed_login_each_write_exactly_one_security_line(user, client, app_logs):
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "mallory", "password": "wrong"})

    lines = app_logs.lines("security.log")
    assert len(lines) == 3
    assert security_line("INFO", "signals", HEX_ID, "user_logged_in", "User logged in: alice", user="alice").fullmatch(lines[0])
    assert security_line(
        "INFO", "signals", HEX_ID, "user_logged_out", "User logged out: alice", user="alice", path="/accounts/logout/"
    ).fullmatch(lines[1])
    assert security_line(
        "WARNING", "signals", HEX_ID, "user_login_failed", "Login failed: mallory", user="mallory"
    ).fullmatch(lines[2])
    assert app_logs.lines("django_debug.log") == []


def test_test_client_login_and_force_login_fire_the_signals_too(user, app_logs):
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    client.logout()
    client.force_login(user)

    events = [re.search(r"event=(\w+)", line).group(1) for line in app_logs.lines("security.log")]
    assert events == ["user_logged_in", "user_logged_out", "user_logged_in"]


def test_no_password_session_or_csrf_token_reaches_any_log(user, app_logs, settings):
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="pytest-agent")
    csrf_token = str(client.get("/accounts/login/").context["csrf_token"])
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token})
    csrf_token = str(client.get("/accounts/login/").context["csrf_token"])  # login rotates the token
    client.post("/accounts/login/", {"username": "alice", "password": "Wr0ng-" + PASSWORD, "csrfmiddlewaretoken": csrf_token})
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_cookie = client.cookies[settings.CSRF_COOKIE_NAME].value

    written = app_logs.text("security.log") + app_logs.text("django_debug.log")
    assert "User logged in: alice" in written and "Login failed: alice" in written
    for secret in (PASSWORD, "Wr0ng-" + PASSWORD, session_id, csrf_cookie, csrf_token):
        assert secret not in written


def test_permission_denied_goes_to_the_security_log_only_naming_the_user(user, client, app_logs):
    client.force_login(user)
    app_logs.mark()

    response = client.get("/restricted/")

    assert response.status_code == 403
    [record] = app_logs.records("security.log")
    assert security_line(
        "WARNING", "log", response["X-Request-ID"], "permission_denied",
        "Forbidden (Permission denied): /restricted/", user="alice", path="/restricted/",
    ).fullmatch(record.split("\n")[0])
    assert app_logs.lines("django_debug.log") == []


def test_csrf_failure_is_a_security_event(client, app_logs):
    response = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="pytest-agent").post(
        "/accounts/login/", {"username": "alice", "password": "x"}
    )

    assert response.status_code == 403
    [line] = app_logs.lines("security.log")
    assert security_line(
        "WARNING", "log", response["X-Request-ID"], "csrf_failure", "Forbidden (CSRF cookie not set.): /accounts/login/"
    ).fullmatch(line)
    assert app_logs.lines("django_debug.log") == []


def test_a_csrf_failure_of_a_logged_in_user_names_the_user(user, app_logs):
    # CsrfViewMiddleware refuses in process_view, after AuthEventsMiddleware resolved the user.
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="pytest-agent")
    client.force_login(user)
    app_logs.mark()

    response = client.post("/accounts/logout/")

    assert response.status_code == 403
    [line] = app_logs.lines("security.log")
    assert security_line(
        "WARNING", "log", response["X-Request-ID"], "csrf_failure", "Forbidden (CSRF cookie not set.): /accounts/logout/",
        user="alice", path="/accounts/logout/",
    ).fullmatch(line), line


def test_disallowed_host_is_a_security_event(client, app_logs):
    response = client.get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    [record] = app_logs.records("security.log")
    first = record.split("\n")[0]
    assert security_line(
        "ERROR", "log", response["X-Request-ID"], "disallowed_host",
        "Invalid HTTP_HOST header: 'evil.example'. You may need to add 'evil.example' to ALLOWED_HOSTS.", path="/",
    ).fullmatch(first)
    assert app_logs.lines("django_debug.log") == []


def test_other_suspicious_operations_are_named_after_their_exception(client, app_logs, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post("/accounts/login/", {f"field{i}": "x" for i in range(11)})

    assert response.status_code == 400
    [record] = app_logs.records("security.log")
    assert re.match(
        rf"ERROR {TIMESTAMP} log \[request_id={response['X-Request-ID']} record_id={RECORD_ID} "
        r"event=too_many_fields_sent event_code=input_validation_fail client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 "
        rf"path=/accounts/login/ user_agent=pytest-agent{ORIGIN}\] "
        r"The number of GET/POST parameters exceeded settings\.DATA_UPLOAD_MAX_NUMBER_FIELDS\.",
        record,
    )


def test_a_hostile_exception_message_cannot_forge_a_record(app_logs):
    forged = "INFO 2026-11-26 12:00:00,000 views [request_id=x record_id=y] forged"
    try:
        raise ValueError(f"bad input\n{forged}\r\u2028{forged}")
    except ValueError:
        logging.getLogger("myapp").exception("Import failed for %s", f"row\n{forged}")

    lines = app_logs.lines("django_debug.log")
    assert app_line("ERROR", "test_log_records", "-", "Import failed for row\\n" + forged).fullmatch(lines[0])
    continuation = lines[1:]
    assert continuation and all(line.startswith("\t") for line in continuation)
    assert "\t" + forged + "\\r\\u2028" + forged in continuation


def test_console_handler_writes_warnings_and_errors_in_the_simple_format_by_default(client):
    console = logging.getHandlerByName("console")
    captured = io.StringIO()
    original = console.setStream(captured)
    try:
        client.get("/", HTTP_USER_AGENT="evil\nagent")
        client.post("/accounts/login/", {"username": "eve\nINFO forged", "password": "x"})
    finally:
        console.setStream(original)

    assert captured.getvalue() == (
        "ERROR This is an error message\nWARNING Login failed: eve\\nINFO forged\n"
    )
