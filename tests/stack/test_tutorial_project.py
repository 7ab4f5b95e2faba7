"""A Django team that followed the logging tutorial and never installed our package: its lines parse too.

tests/tutorial_project has exactly the tutorial's LOGGING (verbose formatter,
file and console handlers, django/myapp/security loggers) and its signal
receivers. Real gunicorn serves it; real requests make it write every shape of
record; the pipeline model, checked on Joni and Joda, reads the file. What each
event must hold is written out here and located in the file by its known text,
never taken from the pipeline: level, module, message, the traceback, and the
time from the window of the request that wrote it.
"""

import copy
import datetime as dt
import math
import re
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pytest

from myapp.traffic import Session
from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_pipeline import Pipeline
from tests.support.ecs_fields import ECS_VERSION
from tests.support.engines import engine_for_tests
from tests.support.tutorial_project import LOG_FILE, PASSWORD, USERNAME, prepare, running_tutorial_project

# Not UTC, and not the contract test's zone: a timestamp read in the wrong zone is hours off.
TIME_ZONE = "America/New_York"
ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": TIME_ZONE}
LOOKALIKE_LINES = ["Error code 51", "ERROR: the card was refused", "WARNING card expires soon", "Info: the customer was told"]
TRACEBACK = "Traceback (most recent call last):"
STACK = "Stack (most recent call last):"
GROUP_TRACEBACK = "  + Exception Group Traceback (most recent call last):"
ASCTIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}")
SCHEMA_RECORD = re.compile(rf"DEBUG (?P<asctime>{ASCTIME.pattern}) schema (?P<message>.+)")


@dataclass(frozen=True)
class Record:
    """One record the project must have written: known text, and the header of its trace if it has one."""

    level: str
    module: str
    message: str
    trace: str | None = None
    action: str | None = None
    # ECS error.type, and the start of error.message: the trace's last exception.
    error: tuple[str, str] | None = None


# What each request makes the project write, in order.
REQUESTS = {
    "hello": [
        Record("INFO", "views", "This is an info message"),
        Record("ERROR", "views", "This is an error message"),
    ],
    "not_found": [Record("WARNING", "log", "Not Found: /nope")],
    "boom": [Record("ERROR", "log", "Internal Server Error: /boom/", TRACEBACK,
                    error=("RuntimeError", "Boom: this view fails on purpose"))],
    # The exception raised last, the first line of its message.
    "chained": [Record("ERROR", "log", "Internal Server Error: /chained/", TRACEBACK,
                       error=("RuntimeError", "checkout failed"))],
    "group": [Record("ERROR", "log", "Internal Server Error: /group/", GROUP_TRACEBACK,
                     error=("ExceptionGroup", "two checks failed (2 sub-exceptions)"))],
    "payment": [
        Record("WARNING", "views", "\n".join(["Payment declined for order 42:", *LOOKALIKE_LINES])),
        Record("ERROR", "views", "The payment gateway's answer has no card", TRACEBACK, error=("KeyError", "'card'")),
        Record("INFO", "views", "Payment retry scheduled", STACK),
    ],
    "login": [Record("INFO", "signals", f"User logged in: {USERNAME}", action="user_logged_in")],
    "logout": [
        # The account page tests {% if messages %} without the messages app: django.template logs it at DEBUG.
        Record("DEBUG", "base", "Exception while resolving variable 'messages' in template 'pages/account.html'.", TRACEBACK,
               error=("django.template.base.VariableDoesNotExist", "Failed lookup for key [messages] in ")),
        Record("INFO", "signals", f"User logged out: {USERNAME}", action="user_logged_out"),
    ],
    # The tutorial has no receiver for user_login_failed: nothing is written.
    "failed_login": [],
}


@dataclass
class Written:
    """A record found in the file: what was expected, the lines it spans and when it was written."""

    record: Record
    asctime: str
    trace_lines: list[str]
    window: tuple[float, float]


@dataclass
class Run:
    log_path: Path
    statuses: dict[str, object]
    setup_window: tuple[float, float]
    setup_lines: list[str]
    written: list[Written]


def _request(session: Session, name: str):
    if name == "hello":
        return session.request("/")
    if name == "not_found":
        return session.request("/nope")[0]
    if name in ("boom", "chained", "group", "payment"):
        return session.request(f"/{name}/")[0]
    if name == "login":
        return session.login(USERNAME, PASSWORD)
    if name == "logout":
        return session.logout()
    return session.login(USERNAME, "not-the-password")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    workdir = tmp_path_factory.mktemp("tutorial")
    started = time.time()
    prepare(workdir, TIME_ZONE)
    setup_window = (started, time.time())
    log_path = workdir / "log" / LOG_FILE
    setup_size = log_path.stat().st_size
    windows, statuses = {}, {}
    with running_tutorial_project(workdir, TIME_ZONE) as app:
        session = Session(app.base_url + "/", "tutorial-test", timeout=10)
        for name in REQUESTS:
            before = time.time()
            statuses[name] = _request(session, name)
            windows[name] = (before, time.time())
    text = log_path.read_bytes().decode("utf-8")
    setup_lines = text[:setup_size].split("\n")[:-1]
    return Run(log_path, statuses, setup_window, setup_lines, _locate(text[setup_size:].split("\n")[:-1], windows))


def _locate(lines: list[str], windows: dict) -> list[Written]:
    """Find each expected record, in order, by its header line; the lines up to the next one are its own.

    Every line must belong to an expected record: an unexpected record fails here.
    """
    expected = [(record, windows[name]) for name, records in REQUESTS.items() for record in records]
    starts = []
    position = 0
    for record, _ in expected:
        first = record.message.split("\n")[0]
        while position < len(lines) and not _is_header(lines[position], record, first):
            position += 1
        assert position < len(lines), f"no line starts the record {record} in:\n" + "\n".join(lines)
        starts.append(position)
        position += 1
    assert starts[:1] == [0], f"lines before the first expected record: {lines[: starts[0]]}"
    written = []
    for index, (record, window) in enumerate(expected):
        end = starts[index + 1] if index + 1 < len(expected) else len(lines)
        message_lines = record.message.split("\n")
        own = lines[starts[index] : end]
        assert own[1 : len(message_lines)] == message_lines[1:], (record, own)
        trace_lines = own[len(message_lines) :]
        if record.trace is None:
            assert trace_lines == [], f"unexpected lines after {record}: {trace_lines}"
        else:
            assert trace_lines[:1] == [record.trace], (record, own)
        written.append(Written(record, ASCTIME.search(own[0]).group(), trace_lines, window))
    return written


def _is_header(line: str, record: Record, first_message_line: str) -> bool:
    head, _, rest = line.partition(" ")
    return head == record.level and ASCTIME.match(rest) is not None and rest[23:] == f" {record.module} {first_message_line}"


@pytest.fixture(scope="module")
def documents(run) -> list:
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())
    return [document for _, document in pipeline.process_file(run.log_path)]


def _local_to_utc(asctime: str) -> dt.datetime:
    local = dt.datetime.strptime(asctime, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=zoneinfo.ZoneInfo(TIME_ZONE))
    return local.astimezone(dt.timezone.utc)


def _expected_source(run: Run, record: Record, asctime: str, trace_lines: list[str]) -> dict:
    source = {
        "@timestamp": _local_to_utc(asctime),
        "agent": {"name": "logstash", "type": "logstash"},
        "ecs": {"version": ECS_VERSION},
        "log": {"level": record.level, "file": {"path": str(run.log_path)}},
        "django": {"module": record.module},
        "message": record.message,
        "event": {"dataset": "django.app", "module": "django", "kind": "event"},
    }
    if record.action:
        source["event"] = {"dataset": "django.security", "module": "django", "action": record.action,
                           **TUTORIAL_EVENT_CATEGORIES[record.action]}
        source["user"] = {"name": USERNAME}
        source["related"] = {"user": [USERNAME]}
    if trace_lines:
        # The multiline codec splits on "\n" and Ruby's "".split yields nothing: a blank line is not kept
        # (logstash-codec-multiline lib/logstash/codecs/multiline.rb, decode).
        source["error"] = {"stack_trace": "\n".join(line for line in trace_lines if line)}
    if "\n" in record.message or trace_lines:
        source["tags"] = ["multiline"]
    return source


# docs/ecs.md's table for the tutorial's two events.
TUTORIAL_EVENT_CATEGORIES = {
    "user_logged_in": {"kind": "event", "category": ["authentication", "session"], "type": ["start"],
                       "outcome": "success"},
    "user_logged_out": {"kind": "event", "category": ["authentication", "session"], "type": ["end"],
                        "outcome": "success"},
}


def _read(source: dict, record: Record) -> dict:
    """``source`` without event.created (when the pipeline read it: after the record was written) and the
    record's error.type and error.message, each checked."""
    source = copy.deepcopy(source)
    assert source["event"].pop("created") >= source["@timestamp"]
    error = source.get("error", {})
    if record.error:
        error_type, message_start = record.error
        assert (error.pop("type"), error.pop("message")[: len(message_start)]) == (error_type, message_start)
    assert "type" not in error and "message" not in error
    return source


def _untagged(source: dict) -> tuple[dict, list[str]]:
    """The source without tags, and its tags: a removed last tag leaves ``[]``, which means none as well."""
    source = dict(source)
    return source, source.pop("tags", [])


def _within(timestamp: dt.datetime, window: tuple[float, float]) -> bool:
    # asctime keeps whole milliseconds, cut not rounded: the record's time is at or after the cut start.
    millis = (timestamp - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)
    return math.floor(window[0] * 1000) <= millis <= window[1] * 1000


def test_the_requests_got_the_tutorial_projects_answers(run):
    assert run.statuses["hello"] == (200, "Hello, World!")
    assert run.statuses["not_found"] == 404
    assert run.statuses["boom"] == run.statuses["chained"] == run.statuses["group"] == 500
    assert run.statuses["payment"] == 200
    assert run.statuses["login"] == run.statuses["logout"] == 302
    assert run.statuses["failed_login"] == 200  # the form again


def test_one_event_per_record_written(run, documents):
    # migrate's one-line schema statements, then the records the requests wrote (located in _locate).
    assert all(SCHEMA_RECORD.fullmatch(line) for line in run.setup_lines), run.setup_lines
    assert len(run.setup_lines) > 10
    assert len(documents) == len(run.setup_lines) + len(run.written)
    assert len({document.document_id for document in documents}) == len(documents)


def test_no_event_is_tagged_as_a_parse_failure(documents):
    for document in documents:
        assert not [tag for tag in document.source.get("tags", []) if "failure" in tag], document.source


def test_migrates_debug_records_parse_with_every_field(run, documents):
    for line, document in zip(run.setup_lines, documents[: len(run.setup_lines)], strict=True):
        written = SCHEMA_RECORD.fullmatch(line)
        record = Record("DEBUG", "schema", written["message"])
        assert _untagged(_read(document.source, record)) == _untagged(
            _expected_source(run, record, written["asctime"], [])), line
        assert _within(document.source["@timestamp"], run.setup_window), (line, document.source["@timestamp"])


@pytest.mark.parametrize("name", [name for name, records in REQUESTS.items() if records])
def test_each_request_s_records_are_events_with_every_field(run, documents, name):
    requested = [(index, w) for index, w in enumerate(run.written) if w.record in REQUESTS[name]]
    for index, written in requested:
        document = documents[len(run.setup_lines) + index]
        expected = _expected_source(run, written.record, written.asctime, written.trace_lines)
        assert _untagged(_read(document.source, written.record)) == _untagged(expected)
        assert document.action == "create"
        assert document.index == "django-logs-" + document.source["@timestamp"].strftime("%Y.%m.%d")


def test_timestamps_are_read_in_time_zone_and_fall_in_the_request_that_wrote_them(run, documents):
    zone = zoneinfo.ZoneInfo(TIME_ZONE)
    local_start = dt.datetime.fromtimestamp(run.written[0].window[0], zone)
    if local_start.utcoffset() != local_start.replace(fold=1 - local_start.fold).utcoffset():
        # asctime has no offset: in the hour a DST end repeats, Joda takes the earlier one (stack facts).
        pytest.skip(f"the requests ran in the repeated hour of {TIME_ZONE}'s DST end: their local times are ambiguous")
    for index, written in enumerate(run.written):
        timestamp = documents[len(run.setup_lines) + index].source["@timestamp"]
        assert _within(timestamp, written.window), (written.record, timestamp, written.window)
        # The zone's offset is hours, so the line's own digits are this instant in TIME_ZONE, to the millisecond.
        local = timestamp.astimezone(zone)
        assert f"{local:%Y-%m-%d %H:%M:%S},{local.microsecond // 1000:03d}" == written.asctime
        assert local.utcoffset() != dt.timedelta(0)


def test_a_chained_traceback_is_one_event_with_every_link(run, documents):
    index = next(i for i, w in enumerate(run.written) if w.record.message == "Internal Server Error: /chained/")
    trace = documents[len(run.setup_lines) + index].source["error"]["stack_trace"].split("\n")
    assert trace[0] == TRACEBACK
    assert trace.count(TRACEBACK) == 3
    assert "ValueError: invalid literal for int() with base 10: 'forty-two'" in trace
    assert "The above exception was the direct cause of the following exception:" in trace
    assert "LookupError: no price for item forty-two" in trace
    assert "During handling of the above exception, another exception occurred:" in trace
    # The last exception's message spans lines that look like records but have no timestamp.
    assert trace[-5:] == ["RuntimeError: checkout failed", *LOOKALIKE_LINES]
    assert any(line.endswith(", in chained") for line in trace)


def test_an_exception_group_is_one_event_with_each_exception(run, documents):
    index = next(i for i, w in enumerate(run.written) if w.record.message == "Internal Server Error: /group/")
    trace = documents[len(run.setup_lines) + index].source["error"]["stack_trace"].split("\n")
    assert trace[0] == GROUP_TRACEBACK
    assert any(line.endswith(", in group") for line in trace)
    assert trace[-6:] == [
        "  | ExceptionGroup: two checks failed (2 sub-exceptions)",
        "  +-+---------------- 1 ----------------",
        "    | ValueError: no stock",
        "    +---------------- 2 ----------------",
        "    | KeyError: 'no address'",
        "    +------------------------------------",
    ]


def test_logins_and_logouts_are_security_events_without_context(run, documents):
    security = [d.source for d in documents if d.source["event"]["dataset"] == "django.security"]
    assert [(s["event"]["action"], s["user"]["name"], s["message"]) for s in security] == [
        ("user_logged_in", USERNAME, f"User logged in: {USERNAME}"),
        ("user_logged_out", USERNAME, f"User logged out: {USERNAME}"),
    ]
    assert all(s["log"]["level"] == "INFO" and s["django"]["module"] == "signals" for s in security)
