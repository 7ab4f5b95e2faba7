"""Where each record was logged and who logged it: the keys after the context fields (ECS log.logger,
log.origin.file.name, log.origin.file.line, log.origin.function, process.pid, host.name, service.*), filled from
the LogRecord attributes Elastic's ecs-logging-python reads (ecs_logging/_stdlib.py, format_to_ecs) and from the
settings. Each expected value is found here independently: inspect, os.getpid() in the process that logged,
socket.gethostname(), the settings module's name.
"""

import inspect
import logging
import multiprocessing
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings

from django_elk_logging.security_events import EVENTS
from servers import environment, free_port, request, serving
from test_request_events import Tail

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[1] / "src" / "django_elk_logging"
IDENTITY_KEYS = ["host", "service", "service_version", "environment"]
# The context's pairs (log_lines._render_value): a bare value, or a quoted one holding no quote.
PAIR = re.compile(r'(\w+)=([A-Za-z0-9._:/@+-]+|"[^"]*")([ \]])')
HOSTILE = {
    "a line break": "shop\r\nINFO 2026-01-01 00:00:00,000 forged [request_id=-] x",
    "a bidi override": "\u202epohs",
    "a line separator": "shop\u2028x",
    "a leading space": " shop",
    # The access line writes each value as one word: a space would give one service two names.
    "a space inside": "my shop",
    "blank": "   ",
    "overlong": "s" * 129,
    "not a string": 42,
}
orders = logging.getLogger("shop.orders")


def place_order():
    orders.warning("order placed")


# The line of the call inside place_order, from its source.
PLACE_ORDER_LINE = inspect.getsourcelines(place_order)[1] + 1
# The project's name as Django's startproject makes it the settings module's first component.
SETTINGS_SERVICE = os.environ["DJANGO_SETTINGS_MODULE"].split(".")[0]


def context(line: str) -> dict[str, str]:
    """The bracketed context's pairs, quotes removed, in the order written: read pair by pair, since a quoted
    value may hold "] "."""
    fields, position = {}, line.index(" [") + 2
    while True:
        pair = PAIR.match(line, position)
        assert pair, line
        key, value, end = pair.groups()
        fields[key] = value[1:-1] if value.startswith('"') else value
        if end == "]":
            return fields
        position = pair.end()


@pytest.fixture
def tail() -> Tail:
    return Tail()


def test_a_record_names_its_logger_file_line_function_and_process_after_the_context(tail):
    place_order()

    [line] = tail.lines("django_debug.log")
    fields = context(line)
    assert list(fields) == ["request_id", "record_id", "logger", "file", "line", "function", "pid", "host", "service"]
    assert fields == {**fields, "logger": "shop.orders", "file": Path(__file__).name, "line": str(PLACE_ORDER_LINE),
                      "function": "place_order", "pid": str(os.getpid()), "host": socket.gethostname(),
                      "service": SETTINGS_SERVICE}


def test_the_identity_settings_name_the_service_and_a_change_is_read_again(tail):
    with override_settings(LOG_SERVICE_NAME="shop", LOG_SERVICE_VERSION="1.4.2+build.7",
                           LOG_SERVICE_ENVIRONMENT="blue-green", LOG_HOST_NAME="web-1.example"):
        place_order()
        Client().login(username="nobody", password="wrong")  # a security record: user_login_failed
    place_order()

    [named, default] = tail.lines("django_debug.log")
    [security] = tail.lines("security.log")
    expected = {"host": "web-1.example", "service": "shop", "service_version": "1.4.2+build.7",
                "environment": "blue-green"}
    assert {key: context(named).get(key) for key in IDENTITY_KEYS} == expected, named
    assert {key: context(security).get(key) for key in IDENTITY_KEYS} == expected, security
    assert context(security)["event"] == "user_login_failed"
    assert {key: context(default).get(key) for key in IDENTITY_KEYS} == {
        "host": socket.gethostname(), "service": SETTINGS_SERVICE, "service_version": None, "environment": None}


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize(("setting", "check_id", "key", "default"), [
    ("LOG_SERVICE_NAME", "django_elk_logging.E023", "service", SETTINGS_SERVICE),
    ("LOG_SERVICE_VERSION", "django_elk_logging.E024", "service_version", None),
    ("LOG_SERVICE_ENVIRONMENT", "django_elk_logging.E025", "environment", None),
    ("LOG_HOST_NAME", "django_elk_logging.E026", "host", socket.gethostname()),
])
def test_a_bad_identity_setting_is_a_check_error_and_left_out_of_the_lines(tail, case, setting, check_id, key, default):
    with override_settings(**{setting: HOSTILE[case]}):
        errors = [message for message in run_checks() if message.id == check_id]
        place_order()

    [error] = errors
    assert error.msg.startswith(f"{setting} ") and "\n" not in error.msg and "\u202e" not in error.msg
    [line] = tail.lines("django_debug.log")
    assert context(line).get(key) == default and line.endswith("] order placed"), line
    assert "forged" not in line and "pohs" not in line


def test_good_identity_settings_pass_the_checks():
    with override_settings(LOG_SERVICE_NAME="shop-front", LOG_SERVICE_VERSION="1.4.2", LOG_SERVICE_ENVIRONMENT="prod",
                           LOG_HOST_NAME="web-1"):
        assert [message.id for message in run_checks() if message.id.startswith("django_elk_logging.E02")] == []


def _log_in_a_forked_child(pids):
    pids.put(os.getpid())
    place_order()


def test_a_forked_child_writes_its_own_pid(tail):
    place_order()  # the parent's identity is read and its rendering kept before the fork
    fork = multiprocessing.get_context("fork")
    pids = fork.Queue()
    child = fork.Process(target=_log_in_a_forked_child, args=(pids,))
    child.start()
    child_pid = pids.get(timeout=30)
    child.join(timeout=30)

    assert child.exitcode == 0 and child_pid != os.getpid()
    [parent_line, child_line] = tail.lines("django_debug.log")
    assert context(parent_line)["pid"] == str(os.getpid())
    assert context(child_line)["pid"] == str(child_pid)
    assert context(child_line)["host"] == socket.gethostname() and context(child_line)["service"] == SETTINGS_SERVICE


BEFORE_SETTINGS = """
import logging, sys
from django_elk_logging.log_lines import SafeFormatter

handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(SafeFormatter("{levelname} {asctime} {module} {message}"))
logging.getLogger().addHandler(handler)
logging.getLogger("boot").warning("before Django")
assert "django" not in sys.modules
import django
django.setup()
logging.getLogger("boot").warning("after setup")
"""
# Its import logs a record: the settings are not configured yet while it runs.
MYSITE_SETTINGS = """
import logging
logging.getLogger("boot").warning("loading the settings")
SECRET_KEY = "x" * 50
LOG_SERVICE_NAME = "mysite-web"
LOG_SERVICE_VERSION = "2.0"
"""


def test_records_logged_before_the_settings_are_configured_name_the_settings_module(tmp_path):
    (tmp_path / "mysite").mkdir()
    (tmp_path / "mysite" / "__init__.py").write_text("")
    (tmp_path / "mysite" / "settings.py").write_text(MYSITE_SETTINGS)

    ran = subprocess.run([sys.executable, "-c", BEFORE_SETTINGS], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env=environment(tmp_path, DJANGO_SETTINGS_MODULE="mysite.settings"))
    unnamed = subprocess.run([sys.executable, "-c", BEFORE_SETTINGS.split("import django")[0]], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60, env=environment(tmp_path))

    assert ran.returncode == 0, ran.stderr
    before, loading, after = ran.stdout.splitlines()
    assert {key: context(before).get(key) for key in ["service", "service_version"]} == {
        "service": "mysite", "service_version": None}, before
    assert {key: context(loading).get(key) for key in ["service", "service_version"]} == {
        "service": "mysite", "service_version": None}, loading
    assert {key: context(after).get(key) for key in ["service", "service_version"]} == {
        "service": "mysite-web", "service_version": "2.0"}, after
    [line] = unnamed.stdout.splitlines()
    assert "service" not in context(line) and context(line)["host"] == socket.gethostname(), line


def test_before_the_settings_the_environment_variables_of_the_settings_names_give_the_identity(tmp_path):
    """A process that loads no Django (gunicorn's arbiter) reads LOG_SERVICE_NAME and the others from its
    environment; a bad value there is left out, as a bad setting is."""
    ran = subprocess.run([sys.executable, "-c", BEFORE_SETTINGS.split("import django")[0]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60,
                         env=environment(tmp_path, DJANGO_SETTINGS_MODULE="mysite.settings", LOG_SERVICE_NAME="shop",
                                         LOG_SERVICE_VERSION="3.1", LOG_SERVICE_ENVIRONMENT="bad\u202evalue",
                                         LOG_HOST_NAME="web-7"))

    assert ran.returncode == 0, ran.stderr
    [line] = ran.stdout.splitlines()
    assert {key: context(line).get(key) for key in ["service", "service_version", "environment", "host"]} == {
        "service": "shop", "service_version": "3.1", "environment": None, "host": "web-7"}, line


def test_uvicorn_writes_the_serving_process_and_the_identity_in_both_lines(tmp_path):
    port = free_port()
    command = ["uvicorn", "asgi_for_tests:application", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    env = environment(log_dir=tmp_path / "logs", PACKAGE_TESTS_SERVICE_VERSION="1.4.2",
                      PACKAGE_TESTS_SERVICE_ENVIRONMENT="blue-green")
    with serving(command, port, env, tmp_path):
        status, _, body = request(port, "GET", "/pid")

    assert status == 200
    [access] = (tmp_path / "logs" / "access.log").read_text(encoding="utf-8").splitlines()
    # The five fields after the peer: pid, host, service, version, environment, each one word.
    assert access.split(" ")[-5:] == [body.decode(), socket.gethostname(), "settings_for_tests", "1.4.2",
                                      "blue-green"], access
    [line] = (tmp_path / "logs" / "django_debug.log").read_text(encoding="utf-8").splitlines()
    assert {key: context(line).get(key) for key in ["pid", *IDENTITY_KEYS]} == {
        "pid": body.decode(), "host": socket.gethostname(), "service": "settings_for_tests",
        "service_version": "1.4.2", "environment": "blue-green"}, line


def test_events_lists_every_action_the_package_writes():
    # Every action passed to log_security_event as a literal, and no record made a security event by hand.
    literal_actions, by_hand = set(), []
    for path in SRC.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        literal_actions |= set(re.findall(r'log_security_event\(\s*\w+,\s*"(\w+)"', source))
        if path.name != "security_events.py" and re.search(r"""extra=\{\s*["']event["']""", source):
            by_hand.append(path.name)
    assert by_hand == []
    assert "blocked_ip" in literal_actions and literal_actions <= set(EVENTS)
    assert EVENTS["blocked_ip"] == (None, logging.WARNING)


def test_a_blocked_address_is_logged_through_the_table_with_no_code(tail, settings):
    settings.BLOCKED_IPS = ["192.0.2.0/24"]  # read when the test client builds its middleware

    response = Client(REMOTE_ADDR="192.0.2.9").get("/")

    assert response.status_code == 403
    [line] = tail.lines("security.log")
    fields = context(line)
    assert line.startswith("WARNING ") and fields["event"] == "blocked_ip" and "event_code" not in fields
    assert (fields["logger"], fields["file"], fields["function"]) == ("security", "ip_blocking.py", "_refusal")


def test_a_hostile_logger_file_and_function_name_stay_one_escaped_value_each(tail):
    hostile_logger = logging.getLogger("shop\nWARNING forged \u2028" + "x" * 600)

    def log_hostile():
        hostile_logger.warning("hostile names")

    call_line = inspect.getsourcelines(log_hostile)[1] + 1
    # The code's own names are what logging reads (logging/__init__.py, Logger.findCaller: co_filename, co_name).
    log_hostile.__code__ = log_hostile.__code__.replace(
        co_name="\u202ex", co_filename="/srv/evil\r\nINFO 2026-01-01 00:00:00,000 forged [request_id=-] x\".py")
    log_hostile()

    [line] = tail.lines("django_debug.log")
    fields = context(line)
    assert fields["file"] == r"evil\r\nINFO 2026-01-01 00:00:00,000 forged [request_id=-] x\x22.py"
    assert fields["function"] == r"\u202ex"
    assert fields["line"] == str(call_line)
    # Cut at 512 escaped characters (log_lines.MAX_FIELD_CHARS), the escapes counted whole.
    escaped_start = r"shop\nWARNING forged \u2028"
    kept = 512 - len(escaped_start)
    assert fields["logger"] == escaped_start + "x" * kept + f"...[truncated {600 - kept} chars]"
    assert fields["pid"] == str(os.getpid()) and line.endswith("] hostile names")
