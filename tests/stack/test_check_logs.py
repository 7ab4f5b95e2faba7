"""make check-logs (python -m check_logs): a log folder read as the pipeline reads it, offline.

Folders of lines written for real (the app's LOGGING under gunicorn; the tutorial project's plain
LOGGING under gunicorn), and of broken lines written here byte by byte. What each report must say is
written out here, from the line formats, never taken from the code under test. The streaming reader
is compared with the pipeline's whole-text reader on the same files, on the model and on Joni.
"""

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from check_logs.__main__ import main
from myapp.traffic import Session
from stack_models.grok import PYGROK_PATTERNS_DIR, EngineDisagreement
from stack_models.joni_batches import BatchedChecks
from stack_models.logstash_lines import FileLines, charset_convert
from stack_models.logstash_pipeline import Pipeline
from tests.support.app_server import DEMO_PASSWORD, DEMO_USERNAME, running_app
from tests.support.engines import require_engine
from tests.support.paths import REPO_ROOT
from tests.support.tutorial_project import LOG_FILE, PASSWORD, USERNAME, prepare, running_tutorial_project

APP_TIME_ZONE = "Europe/Paris"
TUTORIAL_TIME_ZONE = "America/New_York"
ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": "UTC"}
NO_ENV_FILE = "/nonexistent/.env"
# A record of the tutorial's format starts with a level, a space, asctime and a space (docs/log-lines.md, "The tutorial's own format").
TUTORIAL_RECORD_START = re.compile(r"(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
ESC, BIDI = "\x1b", "\u202e"


def check(*args: str) -> subprocess.CompletedProcess:
    """python -m check_logs as a user runs it from the checkout, with only what it needs on PATH."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([sys.executable, "-m", "check_logs", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def report_of(capsys, *args: str) -> tuple[int, dict]:
    """The --json report of an in-process run on the model."""
    code = main([*args, "--engine", "model", "--env-file", NO_ENV_FILE, "--json"])
    return code, json.loads(capsys.readouterr().out)


def by_name(report: dict) -> dict[str, dict]:
    return {file["name"]: file for file in report["files"]}


def kinds(report: dict) -> dict[str, dict]:
    return {kind["kind"]: kind for kind in report["failures"]["by_kind"]}


# ---- a folder our logging package wrote ---------------------------------------------------------------
@pytest.fixture(scope="module")
def our_logs(tmp_path_factory) -> Path:
    """The app's real LOGGING under real gunicorn: views, a 404, a 500, a login, a 403, a logout, a failed login."""
    workdir = tmp_path_factory.mktemp("ours")
    with running_app(workdir, TIME_ZONE=APP_TIME_ZONE) as app:
        visitor = Session(app.base_url + "/", "check-logs-test", timeout=10)
        for path in ("/", "/missing/page", "/boom/"):
            visitor.request(path)
        assert visitor.login(DEMO_USERNAME, DEMO_PASSWORD) == 302
        assert visitor.request("/restricted/")[0] == 403
        assert visitor.logout() == 302
        assert visitor.login("intruder", "wrong") == 200
    return app.log_dir


def our_records(path: Path) -> int:
    """Records in our format: a line, and the TAB-indented lines of its traceback (docs/log-lines.md, "The files")."""
    return sum(1 for line in path.read_text(encoding="utf-8").split("\n")[:-1] if not line.startswith("\t"))


def test_our_lines_parse_with_their_ids_and_fields(our_logs, capsys):
    code, report = report_of(capsys, str(our_logs), "--time-zone", APP_TIME_ZONE)

    files = by_name(report)
    assert code == 0 and report["exit_code"] == 0
    assert sorted(files) == ["access.log", "django_debug.log", "security.log"]
    for name in ("django_debug.log", "security.log"):
        assert files[name]["events"] == files[name]["ours"] == our_records(our_logs / name), name
    access_lines = (our_logs / "access.log").read_text(encoding="utf-8").count("\n")
    assert files["access.log"]["events"] == files["access.log"]["access"] == access_lines
    for file in files.values():
        assert (file["failed"], file["not_utf8_lines"], file["tutorial_format"]) == (0, 0, 0)
        assert (file["record_id_lost"], file["request_id_lost"]) == (0, 0)
        assert (file["security_missing_user"], file["security_missing_address"]) == (0, 0)
    assert report["failures"]["total"] == 0 and report["ids"] == [] and report["security"] == []
    coverage = report["coverage"]
    assert coverage["django.access"]["fields"]["http.request.id"] == 1.0
    assert coverage["django.access"]["fields"]["source.ip"] == 1.0
    # Every security record of a request has its client; the demo user's creation (request_id=-) has none.
    security_lines = [line for line in (our_logs / "security.log").read_text(encoding="utf-8").splitlines()
                      if not line.startswith("\t")]
    in_requests = sum(" [request_id=- " not in line for line in security_lines)
    assert 0 < in_requests < len(security_lines)
    assert coverage["django.security"]["fields"]["source.ip"] == in_requests / len(security_lines)
    assert coverage["django.security"]["fields"]["event.action"] == 1.0
    assert 0 < coverage["django.app"]["fields"]["error.stack_trace"] < 1
    assert sum(dataset["documents"] for dataset in coverage.values()) == sum(file["events"] for file in files.values())


def test_the_text_report_says_which_engine_and_where_the_time_zone_came_from(our_logs, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"TIME_ZONE={APP_TIME_ZONE}\n")

    done = check(str(our_logs), "--engine", "model", "--env-file", str(env_file))

    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[1] == ("engine: the Python model alone (stack_models/), because --engine model asked for it "
                        "(jruby was not started)")
    assert lines[2] == f"time zone: {APP_TIME_ZONE} (from {env_file})"
    assert lines[-1] == "OK: every event parses (exit 0)"


# ---- the tutorial's own lines ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tutorial_logs(tmp_path_factory) -> Path:
    """tests/tutorial_project (the tutorial's plain LOGGING, none of our code) under real gunicorn."""
    workdir = tmp_path_factory.mktemp("tutorial")
    prepare(workdir, TUTORIAL_TIME_ZONE)
    with running_tutorial_project(workdir, TUTORIAL_TIME_ZONE) as app:
        session = Session(app.base_url + "/", "check-logs-test", timeout=10)
        session.request("/")
        session.request("/nope")
        session.request("/boom/")
        assert session.login(USERNAME, PASSWORD) == 302
        assert session.logout() == 302
    return workdir / "log"


def test_the_tutorials_lines_parse_and_are_counted_as_its_format(tutorial_logs, capsys):
    text = (tutorial_logs / LOG_FILE).read_text(encoding="utf-8")
    records = sum(1 for line in text.split("\n") if TUTORIAL_RECORD_START.match(line))

    code, report = report_of(capsys, str(tutorial_logs), "--time-zone", TUTORIAL_TIME_ZONE)

    file = by_name(report)[LOG_FILE]
    assert code == 0
    assert (file["events"], file["tutorial_format"], file["ours"], file["failed"]) == (records, records, 0, 0)
    # Neither id, by design: not reported as lost.
    assert (file["record_id_lost"], file["request_id_lost"]) == (0, 0) and report["ids"] == []
    # The login and the logout, known by their message alone, have no address by design.
    assert file["tutorial_security_no_address"] == 2 and report["security"] == []
    assert report["coverage"]["django.security"]["fields"]["user.name"] == 1.0


def test_the_text_report_counts_the_tutorials_records_apart(tutorial_logs):
    text = (tutorial_logs / LOG_FILE).read_text(encoding="utf-8")
    records = sum(1 for line in text.split("\n") if TUTORIAL_RECORD_START.match(line))

    done = check(str(tutorial_logs), "--engine", "model", "--time-zone", TUTORIAL_TIME_ZONE)

    assert done.returncode == 0
    assert (f"  tutorial format (no ids by design): {records:,} events; ours written outside a request "
            "(request_id=-, as expected): 0") in done.stdout.splitlines()
    assert "  tutorial format (no address by design): 2 security events" in done.stdout.splitlines()


# ---- broken lines -----------------------------------------------------------------------------------------
GARBAGE = b"this line was not written by the app\n"
FINE = b"INFO 2026-12-01 12:00:00,000 views [request_id=abcdef0123456789 record_id=00000000000000a1] fine\n"
BAD_TIME = b"INFO 2026-13-45 25:61:00,000 views [request_id=abcdef0123456789 record_id=00000000000000a2] late\n"
CUT = b"ERROR 2026-12-01 12:00:01,000 views [request_id=abcdef0123456789 record_id=000...[record cut short by a failed write]\n"
NOT_UTF8 = b'INFO 2026-12-01 12:00:02,000 views [request_id=abcdef0123456789 record_id=00000000000000a3] caf\xe9 "q"\n'
# Before security.log's first record, so an event of its own; it tries to clear the screen, retitle the
# terminal, reverse the text and forge a line of the report.
HOSTILE = b"\x1b[2J\x1b]0;pwned\x07\xe2\x80\xae sevol\rOK: every event parses (exit 0)\n"
LOGIN = (b"INFO 2026-12-01 12:00:03,000 signals [request_id=abcdef0123456789 record_id=00000000000000a4 "
         b"event=user_logged_in user=bob client_ip=10.0.0.1 path=/login/] User logged in: bob\n")
ACCESS = (b'10.0.0.1 - - [01/Dec/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 13 "-" "curl/8.5.0" 44243000 '
          b"abcdef0123456789 7f6082383c48c01b\n")
TRUNCATED_ACCESS = b'10.0.0.1 - - [01/Dec/2026:12:00:01 +0000] "GET / HTTP/1.1" 200\n'


@pytest.fixture
def broken_logs(tmp_path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "django_debug.log").write_bytes(GARBAGE + FINE + BAD_TIME + CUT + NOT_UTF8)
    (folder / "security.log").write_bytes(HOSTILE + LOGIN)
    (folder / "access.log").write_bytes(ACCESS + TRUNCATED_ACCESS)
    (folder / "myapp.log").write_bytes(FINE)
    (folder / "access.log.1.gz").write_bytes(b"\x1f\x8b")
    return folder


def test_broken_lines_fail_with_the_reason_each(broken_logs, capsys):
    code, report = report_of(capsys, str(broken_logs), "--time-zone", "UTC")

    assert code == 1 and report["exit_code"] == 1
    files = by_name(report)
    assert {name: (file["events"], file["failed"], file["not_utf8_lines"]) for name, file in files.items()} == {
        "django_debug.log": (5, 3, 1), "security.log": (2, 1, 0), "access.log": (2, 1, 0)}
    assert report["not_read"] == [
        {"name": "access.log.1.gz", "reason": "excluded by the input's exclude *.gz"},
        {"name": "myapp.log", "reason": "no file input reads this name (they read django_debug.log, django_debug.log.*, "
                                        "django_debug.log-[0-9]*, security.log, security.log.*, security.log-[0-9]*, "
                                        "access.log, access.log.*, access.log-[0-9]*)"},
    ]
    found = kinds(report)
    assert {kind: found[kind]["count"] for kind in found} == {
        # the garbage line, the hostile line: each begins a file without a record start
        "_django_record_parsefailure + _django_record_tail + _grokparsefailure": 2,
        "_dateparsefailure": 1,
        "_django_record_parsefailure + _grokparsefailure + _record_cut": 1,
        "_access_parsefailure + _grokparsefailure": 1,
        "not UTF-8": 1,
    }
    assert report["failures"]["total"] == 6

    garbage = found["_django_record_parsefailure + _django_record_tail + _grokparsefailure"]["examples"][0]
    assert (garbage["file"], garbage["line"], garbage["first_line"]) == ("django_debug.log", 1, GARBAGE.decode().strip())
    assert {key: garbage["reason"][key] for key in ("plugin", "expression", "failed_part", "line", "column")} == {
        "plugin": "django_record", "expression": 0, "failed_part": "%{DJANGO_RECORD_START}", "line": 1, "column": 1}

    late = found["_dateparsefailure"]["examples"][0]
    assert (late["line"], late["reason"]["value"], late["reason"]["formats"], late["reason"]["time_zone"]) == (
        3, "2026-13-45 25:61:00,000", ["yyyy-MM-dd HH:mm:ss,SSS"], "UTC")

    cut = found["_django_record_parsefailure + _grokparsefailure + _record_cut"]["examples"][0]
    # The context runs to the end of the line: the "] " after it is missing.
    assert (cut["line"], cut["reason"]["failed_part"], cut["reason"]["text_there"]) == (4, "\\] ", "]")
    assert cut["reason"]["column"] == len(CUT.decode().rstrip("\n"))

    truncated = found["_access_parsefailure + _grokparsefailure"]["examples"][0]
    assert (truncated["file"], truncated["line"], truncated["reason"]["plugin"]) == ("access.log", 2, "gunicorn_access")
    assert (truncated["reason"]["failed_part"], truncated["reason"]["text_there"]) == (" ", "")
    assert truncated["reason"]["column"] == len(TRUNCATED_ACCESS.decode().rstrip("\n")) + 1

    not_utf8 = found["not UTF-8"]["examples"][0]
    offset = len(GARBAGE + FINE + BAD_TIME + CUT) + NOT_UTF8.index(b"\xe9")
    # Logstash's charset converter escapes the whole line as Ruby's String#inspect does.
    assert (not_utf8["line"], not_utf8["byte_offset"]) == (5, offset)
    assert not_utf8["first_line"].endswith('] caf\\xE9 \\"q\\"')


def test_a_hostile_line_is_escaped_in_the_text_report(broken_logs):
    done = check(str(broken_logs), "--engine", "model", "--time-zone", "UTC")

    assert done.returncode == 1
    for raw in (ESC, "\r", "\x07", BIDI):
        assert raw not in done.stdout
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\u202e sevol\\rOK: every event parses (exit 0)" in done.stdout
    assert "OK: every event parses (exit 0)" not in done.stdout.splitlines()
    assert done.stdout.splitlines()[-1] == "FAIL: 6 failure(s) above (exit 1)"
    assert ("its first 1 of 9 parts match, the next, `%{DJANGO_RECORD_START}`, fails: after their first match, at "
            "column 1, comes 'this line was not written by the app'") in done.stdout
    assert "date: django_timestamp read [@metadata][timestamp] = '2026-13-45 25:61:00,000', which is not " \
           "yyyy-MM-dd HH:mm:ss,SSS in UTC" in done.stdout
    column = len(TRUNCATED_ACCESS.decode().rstrip("\n")) + 1
    assert f"the next, ` `, fails: after their first match, at column {column}, comes the end of the event" in done.stdout
    assert "'myapp.log': no file input reads this name" in done.stdout


def test_lost_ids_and_incomplete_security_events_are_warnings_not_failures(tmp_path, capsys):
    (tmp_path / "django_debug.log").write_bytes(
        b"INFO 2026-12-01 12:00:00,000 apps [request_id=- record_id=00000000000000b1] started outside a request\n"
        b"WARNING 2026-12-01 12:00:01,000 log [request_id=- record_id=00000000000000b2] Not Found: /x\n"
        b"INFO 2026-12-01 12:00:02,000 views [request_id=abcdef0123456789] no record id\n")
    (tmp_path / "security.log").write_bytes(
        b"WARNING 2026-12-01 12:00:03,000 signals [request_id=abcdef0123456789 record_id=00000000000000b3 "
        b"event=user_login_failed client_ip=10.0.0.1 path=/login/] Login failed: \n"
        b"INFO 2026-12-01 12:00:04,000 signals [request_id=abcdef0123456789 record_id=00000000000000b4 "
        b"event=user_logged_in user=bob path=/login/] User logged in: bob\n")
    (tmp_path / "access.log").write_bytes(ACCESS.replace(b"abcdef0123456789 7f", b"- 7f"))

    code, report = report_of(capsys, str(tmp_path), "--time-zone", "UTC")

    assert code == 0 and report["failures"]["total"] == 0
    ids = {kind["kind"]: [(example["file"], example["line"]) for example in kind["examples"]] for kind in report["ids"]}
    assert ids == {"request_id_lost": [("access.log", 1), ("django_debug.log", 2)],
                   "record_id_lost": [("django_debug.log", 3)]}
    assert by_name(report)["django_debug.log"]["outside_request"] == 1
    security = {kind["kind"]: [example["line"] for example in kind["examples"]] for kind in report["security"]}
    assert security == {"missing_user": [1], "missing_address": [2]}


def test_examples_are_bounded_and_counts_are_not(tmp_path, capsys):
    (tmp_path / "access.log").write_bytes(b"not an access line\n" * 50)

    code, report = report_of(capsys, str(tmp_path), "--time-zone", "UTC", "--max-examples", "3")

    kind = kinds(report)["_access_parsefailure + _grokparsefailure"]
    assert code == 1 and kind["count"] == 50
    assert [example["line"] for example in kind["examples"]] == [1, 2, 3]


# ---- cannot run: exit 2 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make_target", "message"),
    [
        (lambda tmp: tmp / "missing", "{path} does not exist"),
        (lambda tmp: (tmp / "a.log").write_text("x") and tmp / "a.log", "{path} is not a folder"),
        (lambda tmp: (tmp / "myapp.log").write_text("x") and tmp, "{path} holds no file the pipeline reads (it reads "
         "django_debug.log, django_debug.log.*, django_debug.log-[0-9]*, security.log, security.log.*, security.log-[0-9]*, "
         "access.log, access.log.*, access.log-[0-9]*); not read: myapp.log"),
    ],
)
def test_a_folder_it_cannot_check_exits_2_with_one_line(tmp_path, make_target, message):
    path = make_target(tmp_path)

    done = check(str(path), "--engine", "model", "--time-zone", "UTC")

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: check-logs cannot run: {message.format(path=path)}\n"


def test_a_time_zone_logstash_refuses_exits_2(broken_logs):
    done = check(str(broken_logs), "--engine", "model", "--time-zone", "posix/Europe/Paris")

    assert done.returncode == 2
    assert "TIME_ZONE='posix/Europe/Paris' is a copy under posix/" in done.stderr


def test_without_jruby_joni_is_refused_and_auto_says_it_runs_on_the_model(broken_logs, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {"PATH": str(empty), "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "check_logs", str(broken_logs), "--time-zone", "UTC"]

    refused = subprocess.run([*command, "--engine", "joni"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    auto = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert refused.returncode == 2
    assert refused.stderr.startswith("error: check-logs cannot run: --engine joni needs Logstash's engines: jruby is not installed")
    assert auto.returncode == 1
    assert auto.stdout.splitlines()[1].startswith("engine: the Python model alone (stack_models/), because jruby is not installed")


def test_engine_model_never_starts_jruby_and_auto_does(broken_logs, tmp_path):
    """A stand-in jruby that leaves a mark and fails, first on PATH; the Joda jar taken as present."""
    bin_dir, mark = tmp_path / "bin", tmp_path / "jruby-started"
    bin_dir.mkdir()
    (bin_dir / "jruby").write_text(f"#!/bin/sh\ntouch '{mark}'\nexit 3\n")
    (bin_dir / "jruby").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "JODA_TIME_JAR": str(bin_dir / "jruby")}
    command = [sys.executable, "-m", "check_logs", str(broken_logs), "--time-zone", "UTC"]

    model = subprocess.run([*command, "--engine", "model"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    started = mark.exists()
    auto = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert (model.returncode, started) == (1, False)
    assert (auto.returncode, mark.exists()) == (2, True)
    assert auto.stderr.startswith("error: check-logs cannot run: jruby is installed but Logstash's engines did not start")
    assert auto.stderr.rstrip().endswith("run with --engine model to check on the model alone")


# ---- the JSON report ----------------------------------------------------------------------------------------
def test_the_json_report_has_stable_keys(broken_logs, capsys):
    code, report = report_of(capsys, str(broken_logs), "--time-zone", "UTC")

    assert code == 1
    assert sorted(report) == ["coverage", "engine", "exit_code", "failures", "files", "ids", "log_dir", "not_read",
                              "run", "security", "time_zone", "version"]
    assert report["version"] == 1
    assert sorted(report["engine"]) == ["checks", "jruby", "model_only_because", "name", "on_engine", "on_model", "summary"]
    assert sorted(report["run"]) == ["bytes", "events", "lines", "mb_per_second", "peak_rss_bytes", "seconds"]
    read = ("django_debug.log", "security.log", "access.log")
    assert report["run"]["bytes"] == sum((broken_logs / name).stat().st_size for name in read)
    assert sorted(report["files"][0]) == sorted([
        "name", "input", "bytes", "lines", "events", "failed", "not_utf8_lines", "incomplete_last_line_bytes",
        "stopped_at_too_long_line", "error", "ours", "tutorial_format", "access", "record_id_lost", "request_id_lost",
        "outside_request", "security_missing_user", "security_missing_address", "tutorial_security_no_address"])
    assert sorted(report["failures"]) == ["by_kind", "closest", "counted_tags_except", "diagnosed_per_file", "tag_meanings", "total"]
    assert report["time_zone"] == {"name": "UTC", "from": "--time-zone"}
    assert all(sorted(kind) == ["count", "examples", "kind"] for kind in report["failures"]["by_kind"])
    assert report["coverage"]["django.access"]["documents"] == 2


# ---- the streaming reader against the whole-text reader ----------------------------------------------------
def _without_read_time(event: dict) -> dict:
    """An event as the pipeline made it, less the times it was read: event.created, and @timestamp where no date
    filter set it."""
    unset = {"_grokparsefailure", "_dateparsefailure"} & set(event.get("tags", []))
    kept = {key: value for key, value in event.items() if key != "@timestamp" or not unset}
    kept["event"] = {key: value for key, value in event["event"].items() if key != "created"}
    return kept


def _streamed_and_read(pipeline: Pipeline, path: Path, chunk_bytes: int) -> tuple[list, list]:
    streamed = [pipeline.filter(event) for event, _ in pipeline.stream(path, FileLines(path, chunk_bytes=chunk_bytes))]
    read = [pipeline.filter(event) for event in pipeline.read(path, path.read_bytes().decode("utf-8"))]
    strip = [_without_read_time(event) for event in streamed], [_without_read_time(event) for event in read]
    for events in strip:  # random per read: a uuid where a record has no record id, and the document id from it
        for event in events:
            if event["@metadata"].get("record_id", "").count("-") == 4:
                event["@metadata"] = {**event["@metadata"], "record_id": "<uuid>", "document_id": "<from uuid>"}
    return strip


def _log_files(*folders: Path) -> list[Path]:
    return [path for folder in folders for path in sorted(folder.iterdir())
            if path.name in ("django_debug.log", "security.log", "access.log")]


@pytest.mark.parametrize("chunk_bytes", [7, 4096, 1 << 20])
def test_the_streaming_reader_makes_exactly_the_whole_text_readers_events(our_logs, tutorial_logs, tmp_path, chunk_bytes):
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "django_debug.log").write_bytes(GARBAGE + FINE + BAD_TIME + CUT + b"\r\n\n\t\xc3\xa9 tail\n" + FINE)
    (broken / "access.log").write_bytes(ACCESS + b"\n" + TRUNCATED_ACCESS + b"no newline at the end")

    for path in _log_files(our_logs, tutorial_logs, broken):
        streamed, read = _streamed_and_read(pipeline, path, chunk_bytes)
        assert streamed == read, path
        assert len(read) > 1, path


def test_the_streaming_reader_on_joni_makes_the_models_events(our_logs, tutorial_logs):
    checks = BatchedChecks(require_engine(), batch_chars=20_000)  # skips without jruby, fails under CI=true
    on_joni = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=checks)
    model = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT)

    for path in _log_files(our_logs, tutorial_logs):
        streamed = [_without_read_time(on_joni.filter(event)) for event, _ in on_joni.stream(path, FileLines(path, engine=checks))]
        read = [_without_read_time(model.filter(event)) for event in model.read(path, path.read_bytes().decode("utf-8"))]
        assert [event["message"] for event in streamed] == [event["message"] for event in read], path
        assert [event.get("tags") for event in streamed] == [event.get("tags") for event in read], path
    checks.finish()  # every match, date and conversion answered by Joni, Joda and JRuby, none disagreeing
    assert checks.checked["groks"] > 0 and checks.checked["dates"] > 0


def test_check_logs_on_joni_reports_what_the_model_reports(broken_logs, capsys):
    require_engine()

    on_joni = main([str(broken_logs), "--engine", "joni", "--time-zone", "UTC", "--env-file", NO_ENV_FILE, "--json"])
    joni_report = json.loads(capsys.readouterr().out)
    _, model_report = report_of(capsys, str(broken_logs), "--time-zone", "UTC")

    assert on_joni == 1
    assert joni_report["engine"]["name"] == "joni"
    assert joni_report["engine"]["summary"].startswith("Joni and Joda-Time under jruby ")
    assert joni_report["engine"]["checks"]["charsets"] == 1
    assert {key: value for key, value in joni_report.items() if key not in ("engine", "run")} == {
        key: value for key, value in model_report.items() if key not in ("engine", "run")}


def test_the_charset_model_escapes_as_jruby_does_on_every_code_point():
    """LogStash::Util::Charset on a line that is not UTF-8 (an invalid byte after the character), checked on JRuby
    for every code point of the planes that have characters, and every 61st of the others, whose category the
    two Unicode databases agree on: those assigned in Unicode 3.2, which both know, and those unassigned in
    Python's, which JRuby's older tables leave unassigned too."""
    checks = BatchedChecks(require_engine())
    checked = 0
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF or (code >= 0x30000 and code < 0xE0000 and code % 61):
            continue
        char = chr(code)
        if unicodedata.ucd_3_2_0.category(char) == "Cn" and unicodedata.category(char) != "Cn":
            continue
        line = char.encode("utf-8") + b"\xff#{" + char.encode("utf-8")
        checks.check_charset(line, charset_convert(line), lambda real, line=line: AssertionError((line, real)))
        checked += 1
    checks.finish()
    assert checks.checked["charsets"] == checked > 200_000


# ---- make check-logs ------------------------------------------------------------------------------------------
def make(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE") and key not in ("LOG_DIR", "TIME_ZONE")}
    return subprocess.run(["make", "--no-print-directory", "check-logs", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_make_check_logs_runs_the_check_and_names_its_exit_status(our_logs, broken_logs):
    passed = make(f"LOG_DIR={our_logs}", f"TIME_ZONE={APP_TIME_ZONE}", "ENGINE=model")
    failed = make(f"LOG_DIR={broken_logs}", "TIME_ZONE=UTC", "ENGINE=model", "JSON=1")
    refused = make(f"LOG_DIR={broken_logs}/missing", "ENGINE=model")

    assert (passed.returncode, passed.stderr) == (0, "")
    assert passed.stdout.splitlines()[-1] == "OK: every event parses (exit 0)"
    assert f"time zone: {APP_TIME_ZONE} (from --time-zone)" in passed.stdout
    # make exits 2 whenever a command fails, and names the command's status on its last line.
    assert failed.returncode == 2 and json.loads(failed.stdout)["exit_code"] == 1
    assert re.search(r"make: \*\*\* \[Makefile:\d+: check-logs\] Error 1\n$", failed.stderr)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: check-logs cannot run: {broken_logs}/missing does not exist\n")
    assert re.search(r"\] Error 2\n$", refused.stderr)


def test_make_check_logs_without_log_dir_says_what_to_set():
    done = make()

    assert done.returncode == 2
    assert done.stderr.startswith("error: set LOG_DIR to the folder your project logs to, e.g. make check-logs "
                                  "LOG_DIR=/srv/myproject/logs\n")


def test_a_line_glued_to_one_of_our_records_is_pointed_at(tmp_path):
    (tmp_path / "django_debug.log").write_bytes(
        b"ERROR 2026-12-01 12:00:00,000 log [request_id=abcdef0123456789 record_id=00000000000000c1] Boom\n"
        b"\tTraceback (most recent call last):\n"
        b"print() output in the log file\n")

    done = check(str(tmp_path), "--engine", "model", "--time-zone", "UTC")

    assert done.returncode == 1
    assert ("  _django_record_parsefailure + _grokparsefailure: 1 (an app or security record that neither our format nor "
            "the tutorial's matches; no grok expression matched (the event is indexed whole in message))") in done.stdout
    assert ("closest: django_record #0 (message): its first 8 of 9 parts match, the next, `\\Z`, fails: after their "
            "first match, at column 36 of the event's line 2, comes '\\nprint() output in the log file'") in done.stdout


def test_batched_checks_raise_a_gsub_or_condition_disagreement():
    engine = require_engine()
    for check in (lambda c, e: c.check_gsub(r"\r$", "", "a\r", "a\r", e),
                  lambda c, e: c.check_regex_match(r"x\z", "x\n", True, e)):
        checks = BatchedChecks(engine)
        check(checks, lambda real: EngineDisagreement(repr(real)))
        with pytest.raises(EngineDisagreement):
            checks.finish()
