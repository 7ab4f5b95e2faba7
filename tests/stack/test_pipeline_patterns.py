"""Where a record starts, defined once in logstash/pipeline/patterns/django and loaded as the plugins load it.

Hostile continuation lines are checked on the multiline codec's own expression and through the
whole pipeline, in our format and in the tutorial's, with every evaluation on Joni where jruby is
installed (stack_models/grok.py raises EngineDisagreement on any difference).
"""

import logging
import os
import sys
from pathlib import Path

import pytest
from django_elk_logging.log_files import CUT_MARKER
from django_elk_logging.log_lines import MAX_TRACEBACK_LINES, SafeFormatter

from stack_models.grok import PYGROK_PATTERNS_DIR, GrokError, load_patterns, read_patterns_file
from stack_models.logstash_config_tree import Plugin, plugins
from stack_models.logstash_events import Event
from stack_models.logstash_patterns import CONTAINER_MOUNTS
from stack_models.logstash_pipeline import Pipeline
from tests.support.engines import engine_for_tests
from tests.support.paths import COMPOSE_FILE, LOGSTASH_DIR, PIPELINE_PATH

ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": "UTC"}
PATTERNS_DIR = "/usr/share/logstash/pipeline/patterns"
OURS = "INFO 2026-12-01 12:00:00,000 views [request_id=- record_id=00000000000000aa] first"
TUTORIAL = "INFO 2026-12-01 12:00:00,000 views first"
NEXT_OURS = "INFO 2026-12-01 12:00:01,000 views [request_id=- record_id=00000000000000bb] next"
NEXT_TUTORIAL = "INFO 2026-12-01 12:00:01,000 views next"

# Lines that look like a level, a timestamp or both, but do not start a record.
HOSTILE = [
    "Error: x",
    "ERROR: x",
    "WARNING no timestamp",
    "Info: x",
    "INFO 2026-12-01 12:00:00 x",  # no milliseconds
    "INFO 2026-12-01",
    "INFO 2026-12-01 12:00:00,000",  # no space after the timestamp
    "INFO 2026-12-01 12:00:00,00 x",
    "INFO 2026-12-01T12:00:00,000 x",
    "INFO  2026-12-01 12:00:00,000 x",
    " INFO 2026-12-01 12:00:00,000 views x",
    "    ERROR 2026-12-01 12:00:00,000 views indented",
    "\tERROR 2026-12-01 12:00:00,000 views [request_id=forged record_id=ffffffffffffffff] x",
    "Level x 2026-12-01 12:00:00,000 views",
    "DEBUG:root:basicConfig's format",
    # A traceback's exception line is "name: message", so its name is never read as a level, whatever follows.
    "ValueError: 2026-12-01 12:00:00,000 views x",
    "Error: 2026-12-01 12:00:00,000 views x",
    "KeyError: '2026-12-01 12:00:00,000 views x'",
    "django.core.exceptions.PermissionDenied: 2026-12-01 12:00:00,000 views [request_id=- record_id=00000000000000ff] forged",
    "mod.f.<locals>.E: 2026-12-01 12:00:00,000 views x",
    "  File \"x.py\", line 1, in 2026-12-01 12:00:00,000 views x",
    "NOTICE:2026-12-01 12:00:00,000 views x",
    "NOTICE 2026-12-01 12:00:00 views x",
    "NOTICE\t2026-12-01 12:00:00,000 views x",
    "NOTICE  2026-12-01 12:00:00,000 views x",
    "Traceback (most recent call last):",
    "During handling of the above exception, another exception occurred:",
    "   ",
    # A traceback's last line whose (user's) exception text ends like a cut record.
    "ValueError: user said ...[record cut short by a failed write]",
    "Error...[record cut short by a failed write]",
    "  File \"x.py\", line 1...[record cut short by a failed write]",
    "INFOx...[record cut short by a failed write]",
    "Error...[rec...[record cut short by a failed write]",
    "KeyError: 'x'...[record cut short by a failed write]",
    "INFO 2026-12-01 12:00:00,000x...[record cut short by a failed write]",
]
# Lines that do start a record: every level name Python gives, and names logging.addLevelName gives
# (verboselogs' NOTICE, SPAM, SUCCESS, VERBOSE; TRACE; any word without a colon).
STARTS = [
    f"{level} 2026-12-01 12:00:00,000 views x"
    for level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "Level 5", "Level 25", "Level -1",
                  "NOTICE", "TRACE", "SUCCESS", "VERBOSE", "SPAM", "WARN", "error", "[INFO]", "xINFO", "Niveau_5")
] + [OURS, "ERROR 2026-12-01 12:00:00,000 views ", "INFO 2026-12-01 12:00:00,000 x...[record cut short by a failed write]"] + [
    # A record a full disk cut short before its timestamp was complete.
    f"{head}...[record cut short by a failed write]"
    for head in (
        "I", "WARN", "CRITICAL", "Level", "Level 2", "ERROR ", "DEBUG 2026-12-0", "INFO 2026-12-01 12:00:00,000",
        # cut again inside the marker written in front of the next record
        "WAR...[rec", "INFO 2026-12-01 1...[record cut s", "E..", "W.", "D...[", "I...[r...",
    )
]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())


def _codecs(pipeline: Pipeline) -> list[Plugin]:
    return [item.get("codec") for item in pipeline.config["input"] if isinstance(item, Plugin) and item.get("codec")]


def _record_grok(pipeline: Pipeline) -> Plugin:
    [grok] = [item for item in plugins(pipeline.config["filter"]) if item.get("id") == "django_record"]
    return grok


def test_the_patterns_folder_is_in_a_read_only_mount_of_the_repository(pipeline):
    compose = COMPOSE_FILE.read_text()
    for mount, folder in CONTAINER_MOUNTS.items():
        assert f"- ./{folder.relative_to(LOGSTASH_DIR.parent)}:{mount}:ro\n" in compose
    entries = {entry for codec in _codecs(pipeline) for entry in codec.get("patterns_dir")}
    entries |= set(_record_grok(pipeline).get("patterns_dir"))
    assert entries == {PATTERNS_DIR}
    assert pipeline.host_path(PATTERNS_DIR) == LOGSTASH_DIR / "pipeline" / "patterns"
    # pipelines.yml loads django.conf alone, so the patterns file is never read as pipeline config.
    assert 'path.config: "/usr/share/logstash/pipeline/django.conf"' in (LOGSTASH_DIR / "config" / "pipelines.yml").read_text()


def test_codec_and_grok_share_one_definition_of_where_a_record_starts(pipeline):
    codecs = _codecs(pipeline)
    assert len(codecs) == 2
    assert {codec.get("pattern") for codec in codecs} == {r"\A%{DJANGO_EVENT_START}"}
    assert all(codec.get("negate") is True and codec.get("what") == "previous" for codec in codecs)
    grok = _record_grok(pipeline)
    assert "pattern_definitions" not in grok.keys()
    assert all(expression.startswith(r"\A%{DJANGO_RECORD_START}") for expression in grok.get("match")["message"])
    definitions = read_patterns_file(LOGSTASH_DIR / "pipeline" / "patterns" / "django")
    assert "%{DJANGO_RECORD_START}" in definitions["DJANGO_EVENT_START"]


# Two functions calling each other: Python folds a frame repeated in a row ("[Previous line repeated ...]").
def _recurse(depth: int) -> None:
    if depth:
        _recurse_again(depth - 1)
    raise ValueError("deep")


def _recurse_again(depth: int) -> None:
    _recurse(depth)


def test_our_longest_record_fits_in_one_event(pipeline, tmp_path):
    assert {codec.get("max_lines") for codec in _codecs(pipeline)} == {10_000}
    try:
        _recurse(MAX_TRACEBACK_LINES)  # two lines a frame: twice as many lines as the formatter keeps
    except ValueError:
        record = logging.LogRecord("myapp", logging.ERROR, "/app/views.py", 1, "boom", None, sys.exc_info())
    # The package's real formatter keeps the first line and the last MAX_TRACEBACK_LINES lines (log_lines.py).
    line = SafeFormatter("{levelname} {asctime} {module} {message}").format(record)
    assert line.count("\n") == MAX_TRACEBACK_LINES and "traceback lines omitted]" in line

    [event] = _process(pipeline, tmp_path, "django_debug.log", line.split("\n"))

    assert event["tags"] == ["multiline"] and event["error"]["stack_trace"].count("\n") == MAX_TRACEBACK_LINES - 1


@pytest.mark.parametrize("line", HOSTILE)
def test_a_hostile_line_does_not_start_a_record(pipeline, line):
    for codec in _codecs(pipeline):
        files = pipeline.patterns_dir_files(codec.get("patterns_dir"), skip_directories=False)
        assert not pipeline.grok(codec.get("pattern"), named_captures_only=False, file_patterns=files).matches(line)


@pytest.mark.parametrize("line", STARTS)
def test_a_real_record_start_starts_one(pipeline, line):
    for codec in _codecs(pipeline):
        files = pipeline.patterns_dir_files(codec.get("patterns_dir"), skip_directories=False)
        assert pipeline.grok(codec.get("pattern"), named_captures_only=False, file_patterns=files).matches(line)


def expected_tags(continuation: str) -> list[str]:
    """A record whose text ends like a cut one is tagged as one: the pipeline sees only the text."""
    return ["multiline", "_record_cut"] if continuation.endswith(CUT_MARKER) else ["multiline"]


def _process(pipeline, tmp_path, name: str, lines: list[str]) -> list[dict]:
    log = tmp_path / name
    log.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return [document.source for _, document in pipeline.process_file(log)]


@pytest.mark.parametrize("line", HOSTILE)
@pytest.mark.parametrize("name", ["django_debug.log", "security.log"])
def test_a_hostile_line_continues_a_tutorial_record(pipeline, tmp_path, name, line):
    record, following = _process(pipeline, tmp_path, name, [TUTORIAL, line, NEXT_TUTORIAL])

    assert record["tags"] == expected_tags(line) and record["log"]["level"] == "INFO"
    if line.startswith("Traceback "):  # a traceback's header: the stack trace starts there
        assert record["message"] == "first" and record["error"]["stack_trace"] == line
    else:
        assert record["message"] == f"first\n{line}" and "error" not in record
    assert following["message"] == "next" and "tags" not in following


@pytest.mark.parametrize("line", HOSTILE)
def test_a_hostile_line_indented_with_a_tab_continues_our_record_in_its_stack_trace(pipeline, tmp_path, line):
    record, following = _process(pipeline, tmp_path, "django_debug.log", [OURS, "\t" + line, NEXT_OURS])

    assert record["message"] == "first" and record["error"]["stack_trace"] == "\t" + line
    assert record["tags"] == expected_tags(line) and "tags" not in following and following["message"] == "next"


@pytest.mark.parametrize("line", [line for line in HOSTILE if not line.startswith("\t")])
def test_a_hostile_line_without_a_tab_fails_our_record_and_keeps_it_whole(pipeline, tmp_path, line):
    record, following = _process(pipeline, tmp_path, "security.log", [OURS, line, NEXT_OURS])

    assert record["message"] == f"{OURS}\n{line}"
    assert "_django_record_parsefailure" in record["tags"]
    assert following["message"] == "next" and "tags" not in following


def test_empty_lines_reach_no_event(pipeline, tmp_path):
    # BufferedTokenizerExt passes them on; the codec's text.split("\n") gives no line for them.
    record, following = _process(pipeline, tmp_path, "django_debug.log", ["", TUTORIAL, "", "", "second line", "", NEXT_TUTORIAL])

    assert record["message"] == "first\nsecond line" and following["message"] == "next"


# ---- patterns_dir read as the plugins read it ----------------------------------------------------
def test_a_patterns_file_is_read_as_add_patterns_from_file_reads_it(tmp_path):
    path = tmp_path / "patterns"
    path.write_bytes(
        b"# a comment\n"
        b"   # an indented comment\n"
        b"\n"
        b"  INDENTED   [a-z]+ x\n"  # leading space stripped; the pattern keeps its inner spaces
        b"CRLF a\\d\r\n"  # chomp takes "\r\n"
        b"EMPTY \n"  # split(/\s+/, 2) of "EMPTY \n" is ["EMPTY", ""]: an empty pattern
        b"LONE\n"  # "LONE\n".split(/\s+/, 2) is ["LONE", ""] too
        b"TWICE first\n"
        b"TWICE second\n"
        b"LAST no-newline"
    )
    assert read_patterns_file(path) == {
        "INDENTED": "[a-z]+ x", "CRLF": "a\\d", "EMPTY": "", "LONE": "", "TWICE": "second", "LAST": "no-newline",
    }


def _mounted_pipeline(tmp_path: Path, monkeypatch, config: str) -> Pipeline:
    folder = tmp_path / "pipeline"
    (folder / "patterns" / "nested").mkdir(parents=True)
    (folder / "patterns" / "b").write_text("WORDS b+\n")
    (folder / "patterns" / "a").write_text("WORDS a+\nONLY_A x\n")
    (folder / "patterns" / ".hidden").write_text("ONLY_A hidden\n")
    (folder / "test.conf").write_text(config)
    monkeypatch.setitem(CONTAINER_MOUNTS, "/usr/share/logstash/pipeline", folder)
    return Pipeline({}, {}, path=folder / "test.conf", engine=engine_for_tests())


def test_grok_reads_its_patterns_dir_in_name_order_and_skips_directories_and_dot_files(tmp_path, monkeypatch):
    pipeline = _mounted_pipeline(
        tmp_path, monkeypatch, f'filter {{ grok {{ patterns_dir => ["{PATTERNS_DIR}"] match => {{ "message" => "^%{{WORDS:w}}%{{ONLY_A:o}}$" }} }} }}'
    )
    # Dir.glob is sorted, so "b" is read after "a" and its WORDS wins; ".hidden" is not globbed.
    assert pipeline.patterns_dir_files([PATTERNS_DIR]) == {"WORDS": "b+", "ONLY_A": "x"}
    assert pipeline.filter(Event({"message": "bbx"}))["w"] == "bb"
    assert "_grokparsefailure" in pipeline.filter(Event({"message": "aax"}))["tags"]


def test_the_codec_fails_on_a_directory_in_its_patterns_dir(tmp_path, monkeypatch):
    pipeline = _mounted_pipeline(
        tmp_path, monkeypatch,
        f'input {{ file {{ path => ["/logs/a.log"] codec => multiline {{ patterns_dir => ["{PATTERNS_DIR}"] pattern => "^x" negate => true what => "previous" }} }} }}',
    )
    with pytest.raises(GrokError, match="is a directory"):
        pipeline.read(Path("/logs/a.log"), "x\n")


def test_a_path_outside_the_mounts_is_refused(pipeline):
    with pytest.raises(LookupError, match="not in a folder"):
        pipeline.host_path("/etc/logstash/patterns")


# ---- our records from a module whose name holds a space -----------------------------------------
def _our_line(pathname: str, message: str) -> tuple[logging.LogRecord, str]:
    """A security record of the package's real formatter, logged from ``pathname`` ({module} is its name
    without the extension: logging.LogRecord, os.path.splitext)."""
    record = logging.LogRecord("security", logging.INFO, pathname, 1, message, None, None)
    for field, value in {"request_id": "b8710c37751b464b86bdc61f7309a24b", "record_id": "4f32eb2fd84e2959",
                         "event": "user_logged_in", "user": "demo", "client_ip": "127.0.0.1"}.items():
        setattr(record, field, value)
    return record, SafeFormatter("{levelname} {asctime} {module} {message}").format(record)


@pytest.mark.parametrize(
    ("pathname", "module"),
    [("/app/my module.py", r"my\x20module"), ("<frozen importlib._bootstrap>", r"<frozen\x20importlib"),
     ("/app/signals.py", "signals")],
)
@pytest.mark.parametrize(
    "message", ["User logged in: demo", "x] [request_id=forged record_id=ffffffffffffffff user=admin] y"]
)
def test_our_record_keeps_its_context_whatever_its_module_and_message(pipeline, tmp_path, pathname, module, message):
    _, line = _our_line(pathname, message)
    [(event, _)] = pipeline.process_file(_written(tmp_path, "security.log", [line]))

    # The module is kept only where no file is named: this line names its file, quoted where it has a space.
    assert event["log"]["origin"]["file"]["name"] == os.path.basename(pathname) and "tags" not in event
    assert "django" not in event
    assert event["message"] == message  # a context in the message moves no field
    assert event["http"]["request"]["id"] == "b8710c37751b464b86bdc61f7309a24b"
    assert event["@metadata"]["record_id"] == "4f32eb2fd84e2959"
    assert (event["event"]["action"], event["user"]["name"], event["source"]["ip"]) == ("user_logged_in", "demo", "127.0.0.1")


@pytest.mark.parametrize(
    "message",
    [
        # Django's own 404 line logs the decoded path: a client chooses every character after "Not Found:".
        "Not Found: /a [request_id=forged record_id=ffffffffffffffff event=user_login_failed user=admin client_ip=192.0.2.7] b",
        "Login failed: x [request_id=forged record_id=ffffffffffffffff event=user_logged_in user=admin client_ip=192.0.2.7]",
    ],
)
def test_a_tutorial_line_with_a_context_in_its_message_forges_no_field(pipeline, tmp_path, message):
    line = logging.Formatter("{levelname} {asctime} {module} {message}", style="{").format(
        logging.LogRecord("django.request", logging.WARNING, "/usr/lib/django/utils/log.py", 1, message, None, None))
    [(event, _)] = pipeline.process_file(_written(tmp_path, "security.log", [line]))

    assert event["django"]["module"] == "log" and "tags" not in event
    assert "source" not in event and event.get("http", {}).get("request", {}).get("id") is None
    assert event.get("user", {}).get("name") != "admin" and event.get("event", {}).get("action") != "user_logged_in"


def test_a_level_name_with_a_space_or_a_colon_starts_a_record_of_ours_with_its_context(pipeline, tmp_path):
    lines = []
    for level_name in ("MY NOTICE", "AUDIT:", "Level 25"):
        record, _ = _our_line("/app/signals.py", "User logged in: demo")
        record.levelname = level_name
        lines.append(SafeFormatter("{levelname} {asctime} {module} {message}").format(record))
    events = [event for event, _ in pipeline.process_file(_written(tmp_path, "security.log", lines))]

    assert [event["log"]["level"] for event in events] == [r"MY\x20NOTICE", r"AUDIT\x3a", "Level 25"]
    assert all(event["user"]["name"] == "demo" and "tags" not in event for event in events)


def test_a_failed_record_of_ours_whatever_its_module_is_a_failure_not_a_tutorial_record(pipeline, tmp_path):
    _, line = _our_line("/app/my module.py", "first")
    record, following = _process(pipeline, tmp_path, "security.log", [line, "a line our app did not write", NEXT_OURS])

    assert record["message"] == f"{line}\na line our app did not write"
    assert "_django_record_parsefailure" in record["tags"] and following["message"] == "next"


def _written(tmp_path, name: str, lines: list[str], newline: str = "\n") -> Path:
    log = tmp_path / name
    log.write_bytes("".join(line + newline for line in lines).encode())
    return log


# ---- CRLF files ----------------------------------------------------------------------------------
def test_a_crlf_file_leaves_no_carriage_return_in_any_field(pipeline, tmp_path):
    _, ours = _our_line("/app/signals.py", "User logged in: demo")
    lines = [
        ours, "\tTraceback (most recent call last):", "\tValueError: x",
        "INFO 2026-12-01 12:00:00,000 signals User logged in: alice",
        "ERROR 2026-12-01 12:00:01,000 views two\r\rcarriage returns", "second line",
        "Traceback (most recent call last):", '  File "x.py", line 1, in f', "KeyError: 'k'",
        "WARN" + CUT_MARKER,
        NEXT_TUTORIAL,
    ]
    sources = [document.source for _, document in pipeline.process_file(_written(tmp_path, "security.log", lines, "\r\n"))]

    assert [source.get("user", {}).get("name") for source in sources] == ["demo", "alice", None, None, None]
    assert sources[0]["error"]["stack_trace"] == "\tTraceback (most recent call last):\n\tValueError: x"
    assert sources[0]["event"]["action"] == "user_logged_in" and sources[0]["source"]["ip"] == "127.0.0.1"
    # Only the "\r" the line end left goes; one inside a line stays.
    assert sources[2]["message"] == "two\r\rcarriage returns\nsecond line"
    assert sources[2]["error"]["stack_trace"] == "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nKeyError: 'k'"
    assert sources[3]["message"] == "WARN" + CUT_MARKER and "_record_cut" in sources[3]["tags"]
    assert sources[4]["message"] == "next" and "tags" not in sources[4]
    assert [source.get("tags", []) for source in sources[:3]] == [["multiline"], [], ["multiline"]]


def test_a_crlf_access_line_parses(pipeline, tmp_path):
    line = ('127.0.0.1 - - [01/Dec/2026:20:29:01 +0000] "GET / HTTP/1.1" 200 13 "-" "curl/8.10.1" 44243000 '
            "b8710c37751b464b86bdc61f7309a24b 7f6082383c48c01b")
    [source] = [document.source for _, document in pipeline.process_file(_written(tmp_path, "access.log", [line], "\r\n"))]

    assert "tags" not in source and source["message"] == line
    assert source["http"]["request"]["id"] == "b8710c37751b464b86bdc61f7309a24b"


# ---- a grok timeout ------------------------------------------------------------------------------
def test_a_record_whose_match_times_out_is_a_parse_failure_kept_whole(tmp_path, monkeypatch):
    # The stack's config with the record grok's timeout_millis at 1 ms, which a record of 200,000 lines
    # passes: grok.rb (filter) then tags _groktimeout alone, and the pipeline must still keep the text.
    config = PIPELINE_PATH.read_text(encoding="utf-8")
    marked = '      id => "django_record"\n'
    assert config.count(marked) == 1
    path = tmp_path / "django.conf"
    path.write_text(config.replace(marked, marked + "      timeout_millis => 1\n"), encoding="utf-8")
    pipeline = Pipeline(load_patterns(PYGROK_PATTERNS_DIR), ENVIRONMENT, path=path, engine=engine_for_tests())
    text = TUTORIAL + "".join(f"\nline {number}" for number in range(200_000))
    event = Event({"message": text, "event": {"original": text, "dataset": "django.app"}})
    pipeline.filter(event)

    assert {"_groktimeout", "_grokparsefailure", "_django_record_parsefailure"} <= set(event["tags"])
    assert event["message"] == text and "django" not in event and "level" not in event.get("log", {})
