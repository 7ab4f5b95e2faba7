"""The tutorial's own line format through the pipeline, on Joni and Joda.

Records are written by Python's real logging: a plain ``logging.FileHandler`` with the tutorial's
``verbose`` formatter ``{levelname} {asctime} {module} {message}`` (style ``{``, default asctime),
rendered in APP_TIME_ZONE. Expected tracebacks come from Python's ``traceback`` module. The file is
then read and filtered by the pipeline model (stack_models/logstash_pipeline.py), checked against
Joni and Joda wherever jruby is installed.
"""

import datetime as dt
import logging
import re
import traceback
import zoneinfo

import pytest

from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_config_tree import Plugin
from stack_models.logstash_pipeline import Pipeline
from tests.support.engines import engine_for_tests
from tests.support.paths import REPO_ROOT

APP_TIME_ZONE = "Europe/Paris"
ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": APP_TIME_ZONE}
TUTORIAL_FORMAT = "{levelname} {asctime} {module} {message}"
MODULE = __name__.rsplit(".", 1)[-1]  # {module}: this file's name


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())


class _Kept(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


class TutorialLog:
    """A logger writing exactly as the tutorial's ``file`` handler does, and the records it wrote."""

    def __init__(self, path):
        self.path = path
        self.file = logging.FileHandler(path, encoding="utf-8")
        formatter = logging.Formatter(TUTORIAL_FORMAT, style="{")
        paris = zoneinfo.ZoneInfo(APP_TIME_ZONE)
        formatter.converter = lambda seconds: dt.datetime.fromtimestamp(seconds, paris).timetuple()
        self.file.setFormatter(formatter)
        self.kept = _Kept()
        self.logger = logging.getLogger(f"tutorial.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(1)
        self.logger.addHandler(self.file)
        self.logger.addHandler(self.kept)

    def close(self):
        self.file.close()

    @property
    def records(self):
        return self.kept.records


@pytest.fixture
def log(tmp_path):
    tutorial = TutorialLog(tmp_path / "django_debug.log")
    yield tutorial
    tutorial.close()


def events(pipeline, log) -> list[dict]:
    log.close()
    return [document.source for _, document in pipeline.process_file(log.path)]


def without_empty_lines(text: str) -> str:
    # logstash-codec-multiline decode: text.split("\n") of an empty line gives no line, so it is dropped.
    return "\n".join(line for line in text.split("\n") if line)


def exception_text(error: BaseException) -> str:
    """What logging.Formatter.formatException appends: the traceback without its last newline."""
    return "".join(traceback.format_exception(error)).removesuffix("\n")


def test_every_level_parses_with_its_fields_and_time_zone(pipeline, log):
    log.logger.debug("debug text")
    log.logger.info("info text")
    log.logger.warning("warning text with [brackets] and key=value \"quotes\"")
    log.logger.error("error text")
    log.logger.critical("critical text")
    log.logger.log(25, "a level without a name")
    log.logger.info("")
    sources = events(pipeline, log)

    assert [s["log"]["level"] for s in sources] == ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "Level 25", "INFO"]
    assert [s["message"] for s in sources] == [record.getMessage() for record in log.records]
    for source, record in zip(sources, log.records, strict=True):
        assert "tags" not in source, source
        assert source["django"]["module"] == MODULE
        assert source["event"]["dataset"] == "django.app"
        created = dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
        assert source["@timestamp"] == created.replace(microsecond=int(record.msecs) * 1000)
        assert "error" not in source and "http" not in source and "user" not in source


def test_a_traceback_is_one_event_in_stack_trace(pipeline, log):
    try:
        raise ValueError("bad value")
    except ValueError as error:
        log.logger.exception("Internal Server Error: /boom/")
        expected = exception_text(error)
    [source] = events(pipeline, log)

    assert source["message"] == "Internal Server Error: /boom/"
    assert source["error"]["stack_trace"] == expected
    assert source["error"]["stack_trace"].startswith("Traceback (most recent call last):\n")
    assert source["log"]["level"] == "ERROR" and source["tags"] == ["multiline"]


def test_chained_exceptions_stay_one_event_without_their_blank_lines(pipeline, log):
    try:
        try:
            {}["missing"]
        except KeyError as cause:
            raise RuntimeError("lookup failed") from cause
    except RuntimeError as error:
        log.logger.error("cause", exc_info=True)
        caused = exception_text(error)
    try:
        try:
            int("not a number")
        except ValueError:
            raise ValueError("while handling")  # noqa: B904 - the implicit context is the point
    except ValueError as error:
        log.logger.error("context", exc_info=True)
        handled = exception_text(error)
    log.logger.info("after")
    cause, context, after = events(pipeline, log)

    assert "The above exception was the direct cause of the following exception:" in caused
    assert "During handling of the above exception, another exception occurred:" in handled
    assert cause["message"] == "cause" and cause["error"]["stack_trace"] == without_empty_lines(caused)
    assert context["message"] == "context" and context["error"]["stack_trace"] == without_empty_lines(handled)
    assert after["message"] == "after" and "tags" not in after


def test_an_exception_group_and_stack_info_go_to_stack_trace(pipeline, log):
    try:
        raise ExceptionGroup("several", [ValueError("one"), TypeError("two")])
    except ExceptionGroup as error:
        log.logger.error("group", exc_info=True)
        group = exception_text(error)
    log.logger.warning("where am I", stack_info=True)
    grouped, stacked = events(pipeline, log)

    assert group.startswith("  + Exception Group Traceback (most recent call last):\n")
    assert grouped["message"] == "group" and grouped["error"]["stack_trace"] == without_empty_lines(group)
    assert stacked["message"] == "where am I"
    assert stacked["error"]["stack_trace"] == without_empty_lines(log.records[1].stack_info)


def test_a_message_of_several_lines_keeps_them_all_up_to_the_traceback(pipeline, log):
    log.logger.info("first line\n  second line\nERROR: third\nWARNING no timestamp\nINFO 2026-12-01 12:00:00 x")
    try:
        raise KeyError("k")
    except KeyError as error:
        log.logger.exception("summary\ndetails: Traceback (most recent call last): is not a header here")
        expected = exception_text(error)
    several, with_trace = events(pipeline, log)

    assert several["message"] == log.records[0].getMessage() and "error" not in several
    assert with_trace["message"] == log.records[1].getMessage()
    assert with_trace["error"]["stack_trace"] == expected


def test_an_empty_message_before_a_traceback_is_empty(pipeline, log):
    try:
        raise OSError("disk")
    except OSError as error:
        log.logger.exception("")
        expected = exception_text(error)
    [source] = events(pipeline, log)

    assert source["message"] == "" and source["error"]["stack_trace"] == expected


@pytest.mark.parametrize(
    "message, action, categories",
    [("User logged in: alice", "user_logged_in", (["authentication", "session"], ["start"], "success")),
     ("User logged out: alice", "user_logged_out", (["authentication", "session"], ["end"], "success")),
     ("Login failed: alice", "user_login_failed", (["authentication"], ["start"], "failure"))],
)
def test_the_tutorials_security_messages_become_security_events(pipeline, log, message, action, categories):
    # The tutorial's receivers log from the "security" logger, which the line does not name.
    log.logger.info(message)
    [source] = events(pipeline, log)

    category, types, outcome = categories
    assert source["event"] == {"dataset": "django.security", "action": action, "module": "django", "kind": "event",
                               "category": category, "type": types, "outcome": outcome,
                               "created": source["event"]["created"]}
    assert source["user"] == {"name": "alice"}
    assert source["message"] == message
    assert "source" not in source  # no client ip in the tutorial's line


@pytest.mark.parametrize(
    "message",
    ["User logged in:", "User logged in: alice\nmore", "user logged in: alice", "Note: User logged in: alice", "User logged in:  "],
)
def test_other_messages_are_no_security_events(pipeline, log, message):
    log.logger.info(message)
    [source] = events(pipeline, log)

    assert source["event"] == {"dataset": "django.app", "module": "django", "kind": "event",
                               "created": source["event"]["created"]}
    assert "user" not in source


def test_two_identical_lines_are_two_documents_and_a_replay_indexes_them_again(pipeline, tmp_path):
    log = tmp_path / "django_debug.log"
    log.write_text("INFO 2026-12-01 12:00:00,000 views same\n" * 2)
    first = [document for _, document in pipeline.process_file(log)]
    replay = [document for _, document in pipeline.process_file(log)]

    assert [d.source["message"] for d in first] == ["same", "same"]
    assert len({d.document_id for d in first + replay}) == 4  # no record id: random document ids


def test_lines_before_the_first_record_are_one_tagged_event_and_never_glued_to_it(pipeline, tmp_path):
    log = tmp_path / "django_debug.log"
    log.write_text("  File \"x.py\", line 1\nValueError: half a traceback\nINFO 2026-12-01 12:00:00,000 views first\n")
    [orphan, first] = [document.source for _, document in pipeline.process_file(log)]

    assert orphan["message"] == "  File \"x.py\", line 1\nValueError: half a traceback"
    assert {"_grokparsefailure", "multiline", "_django_record_tail"} <= set(orphan["tags"])
    assert first["message"] == "first" and "tags" not in first


# ---- replay: how often the read position is saved ------------------------------------------------
# logstash-input-file lib/filewatch/sincedb_collection.rb (flush_at_interval) writes the sincedb after
# a read (tail_mode/handlers/base.rb, controlled_read) once the whole seconds since the last write reach
# sincedb_write_interval; base.rb counts a line as read once the codec has it, so a save can include a
# record the multiline codec still holds. docs/log-lines.md states the interval of each kind of input.
def test_the_documented_read_position_intervals_are_the_configured_ones(pipeline):
    inputs = [item for item in pipeline.config["input"] if isinstance(item, Plugin)]
    with_codec = {plugin.get("sincedb_write_interval") for plugin in inputs if plugin.get("codec") is not None}
    without_codec = {plugin.get("sincedb_write_interval") for plugin in inputs if plugin.get("codec") is None}
    page = " ".join((REPO_ROOT / "docs" / "log-lines.md").read_text().split())
    documented = re.search(
        r"the two inputs with a multiline codec keep the plugin's default and save every \*\*(\d+) s\*\*; "
        r"the access log has no codec and saves every \*\*(\d+) s\*\*",
        page,
    )
    doubled = re.search(r"A crash can therefore double about (\d+) s of tutorial lines", page)

    assert documented and doubled, "docs/log-lines.md states no read-position intervals"
    assert len(inputs) == 3 and with_codec == {float(documented.group(1))} and without_codec == {float(documented.group(2))}
    # 15 s is the plugin's default (lib/logstash/inputs/file.rb, sincedb_write_interval).
    assert with_codec == {15.0} and doubled.group(1) == documented.group(1)


# ---- tracebacks of any depth ---------------------------------------------------------------------
def _ping(depth: int) -> int:
    return _pong(depth + 1)


def _pong(depth: int) -> int:
    # Two functions in turn, so traceback prints every frame ("[Previous line repeated ...]" folds only a
    # frame identical to the one before).
    return _ping(depth + 1)


def test_a_recursion_error_traceback_with_its_chained_cause_is_one_event(pipeline, log):
    try:
        try:
            _ping(0)
        except RecursionError as error:
            raise RuntimeError("gave up") from error
    except RuntimeError as error:
        log.logger.exception("too deep")
        expected = without_empty_lines(exception_text(error))
    log.logger.info("after")
    deep, after = events(pipeline, log)

    assert expected.count("\n") > 1500  # far over the codec's old max_lines of 500: two lines a frame here
    assert deep["message"] == "too deep" and deep["error"]["stack_trace"] == expected
    assert deep["tags"] == ["multiline"] and expected.endswith("RuntimeError: gave up")
    assert after["message"] == "after" and "tags" not in after


def test_a_record_over_the_codecs_limit_is_split_and_both_parts_are_tagged(pipeline, tmp_path):
    [codec] = {plugin.get("codec").get("max_lines") for plugin in pipeline.config["input"]
               if isinstance(plugin, Plugin) and plugin.get("codec") is not None}
    log = tmp_path / "django_debug.log"
    frames = [f'  File "x.py", line {number}, in f' for number in range(codec + 10)]
    log.write_text("\n".join(["ERROR 2026-12-01 12:00:00,000 views deep", "Traceback (most recent call last):",
                              *frames, "RecursionError: maximum recursion depth exceeded", "INFO 2026-12-01 12:00:01,000 views next"]) + "\n")
    head, tail, following = [document.source for _, document in pipeline.process_file(log)]

    # multiline.rb (do_previous): the buffer is flushed once it holds more than max_lines lines.
    assert head["message"] == "deep" and head["error"]["stack_trace"].count("\n") == codec - 1
    assert head["tags"] == ["multiline", "multiline_codec_max_lines_reached"]
    assert tail["message"].endswith("\nRecursionError: maximum recursion depth exceeded") and "level" not in tail["log"]
    assert set(tail["tags"]) == {"multiline", "_grokparsefailure", "_django_record_parsefailure", "_django_record_tail"}
    assert following["message"] == "next" and "tags" not in following


# ---- level names of logging.addLevelName -----------------------------------------------------------
CUSTOM_LEVELS = {5: "TRACE", 15: "VERBOSE", 22: "NOTICE", 27: "SUCCESS"}


@pytest.fixture
def custom_levels():
    for number, name in CUSTOM_LEVELS.items():
        logging.addLevelName(number, name)
    yield CUSTOM_LEVELS
    for number, name in CUSTOM_LEVELS.items():  # logging keeps names process-wide
        logging._levelToName.pop(number, None)
        logging._nameToLevel.pop(name, None)


def test_custom_level_names_start_records_and_tracebacks_never_do(pipeline, log, custom_levels):
    for number, name in custom_levels.items():
        log.logger.log(number, f"a {name} record")
    try:
        # An exception whose text looks like a record's start, as its traceback's last line prints it.
        raise ValueError("2026-12-01 12:00:00,000 views [request_id=- record_id=00000000000000ff] forged")
    except ValueError as error:
        log.logger.log(22, "with a traceback", exc_info=True)
        expected = exception_text(error)
    log.logger.log(27, "last")
    sources = events(pipeline, log)

    assert [s["log"]["level"] for s in sources] == [*custom_levels.values(), "NOTICE", "SUCCESS"]
    assert [s["message"] for s in sources] == [record.getMessage() for record in log.records]
    assert sources[4]["error"]["stack_trace"] == expected and sources[4]["tags"] == ["multiline"]
    assert expected.endswith("\nValueError: 2026-12-01 12:00:00,000 views [request_id=- record_id=00000000000000ff] forged")
    assert all("tags" not in s for s in sources[:4] + sources[5:]) and "http" not in sources[4]
