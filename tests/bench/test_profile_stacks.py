"""bench/profile_stacks.py: py-spy's collapsed stacks, sorted into logging paths and steps."""

import pytest

from bench.profile_stacks import OTHER_STEP, ProfileError, breakdown, parse_collapsed, report

WORKER = "<module> (gunicorn:7);SyncWorker.handle_request (gunicorn/workers/sync.py:183)"
APP_LOG = WORKER + ";hello (myapp/views.py:15);Logger.info (logging/__init__.py:1539);Logger._log (logging/__init__.py:1684)"
FILE_EMIT = APP_LOG + ";Handler.handle (logging/__init__.py:1028);AppendOnlyFileHandler.emit (django_elk_logging/log_lines.py:151)"
COLLAPSED = "\n".join([
    # 40 samples outside logging: writing the response.
    WORKER + ";Response.write (gunicorn/http/wsgi.py:350);write (gunicorn/util.py:301) 40",
    # The file handler: escaping inside the formatter, then the append.
    FILE_EMIT + ";SafeFormatter.format (django_elk_logging/log_lines.py:87);neutralise (django_elk_logging/escaping.py:40) 7",
    FILE_EMIT + ";AppendOnlyFileHandler._append (django_elk_logging/log_lines.py:171) 5",
    FILE_EMIT + ";SafeFormatter.format (django_elk_logging/log_lines.py:92);Formatter.formatTime (logging/__init__.py:650) 2",
    # The console handler.
    APP_LOG + ";Handler.handle (logging/__init__.py:1028);StreamHandler.emit (logging/__init__.py:1163) 3",
    # Creating the record, before any handler.
    APP_LOG + ";Logger.makeRecord (logging/__init__.py:1654);LogRecord.__init__ (logging/__init__.py:330) 4",
    # The access line: its atoms (with the record id), then the same file handler class.
    WORKER + ";Logger.access (gunicorn/glogging.py:387);AccessLogger.atoms (django_elk_logging/access_log.py:33);"
    "new_record_id (django_elk_logging/log_lines.py:50) 6",
    WORKER + ";Logger.access (gunicorn/glogging.py:391);Logger._log (logging/__init__.py:1684);"
    "AppendOnlyFileHandler.emit (django_elk_logging/log_lines.py:160) 3",
    # Waiting for a connection: not serving a request.
    "<module> (gunicorn:7);SyncWorker.run_for_one (gunicorn/workers/sync.py:79);SyncWorker.wait (gunicorn/workers/sync.py:41) 30",
    "",
])


def test_each_line_gives_its_frame_names_from_the_outermost_and_its_count():
    stacks = parse_collapsed(COLLAPSED)

    assert len(stacks) == 9
    assert stacks[0] == (["<module>", "SyncWorker.handle_request", "Response.write", "write"], 40)
    assert stacks[6][0][-3:] == ["Logger.access", "AccessLogger.atoms", "new_record_id"]
    assert stacks[6][1] == 6


def test_samples_are_split_by_path_and_by_innermost_step():
    result = breakdown(parse_collapsed(COLLAPSED))

    assert result.total_samples == 100
    assert result.waiting_samples == 30
    assert result.logging_samples == 30
    assert result.by_path == {
        "log files (AppendOnlyFileHandler)": 14,
        "access line (gunicorn access logger)": 9,
        "record creation and dispatch": 4,
        "console (StreamHandler)": 3,
    }
    assert result.by_step == {
        "escaping": 7,
        "record id": 6,
        "file append (flock, fstat, pread, write)": 5,
        "record creation": 4,
        "console write": 3,
        OTHER_STEP: 3,
        "time formatting": 2,
    }


def test_the_report_gives_shares_of_the_samples_serving_a_request():
    lines = report(breakdown(parse_collapsed(COLLAPSED)))

    assert lines[0] == "Logging path:  42.9 % of the 70 samples serving a request (30 more waiting for one)"
    assert "-  20.0 % log files (AppendOnlyFileHandler)" in lines
    assert "-  10.0 % escaping" in lines


def test_a_line_without_a_count_is_refused_with_its_number():
    with pytest.raises(ProfileError, match=r"line 2 is not 'frame;frame;\.\.\. count': 'py-spy> Sampling'"):
        parse_collapsed(WORKER + " 3\npy-spy> Sampling\n")
