"""The benchmark's logging configurations write what their names say, served by real gunicorn.

One GET / (the view logs an INFO and an ERROR record) per configuration, then the lines each destination got.
"""

import urllib.request

import pytest

from bench.logging_configs import without_console
from bench.serve_configs import CONFIGURATIONS, prepare_database, serve

VIEW_RECORDS = ("This is an info message", "This is an error message")
# The console's format is "{levelname} {message}" in the tutorial's LOGGING and ours.
CONSOLE_LINES = ("INFO This is an info message", "ERROR This is an error message")

# (view records in files by name, view records on the console, access lines), written by hand per configuration.
EXPECTED = {
    "off": ({}, 0, 0),
    "bare minimum": ({"bare.log": 2}, 0, 0),
    "tutorial": ({"django_debug.log": 2}, 2, 0),
    # Our console prints WARNING and above (CONSOLE_LOG_LEVEL's default): the ERROR only.
    "ours without access line": ({"django_debug.log": 2}, 1, 0),
    "ours without console": ({"django_debug.log": 2}, 0, 1),
    "ours, queued handlers": ({"django_debug.log": 2}, 1, 1),
    "ours": ({"django_debug.log": 2}, 1, 1),
}


def _count(text: str, needles: tuple[str, ...]) -> int:
    return sum(1 for line in text.splitlines() if any(needle in line for needle in needles))


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=[c.name for c in CONFIGURATIONS])
def test_one_request_writes_the_view_records_and_access_line_where_the_configuration_says(configuration, tmp_path):
    database = prepare_database(tmp_path / "shared")
    with serve(configuration, tmp_path / "app", database, workers=1) as app:
        with urllib.request.urlopen(app.base_url + "/", timeout=10) as response:
            assert response.read() == b"Hello, World!"
    files, console, access = EXPECTED[configuration.name]
    log_dir = tmp_path / "app" / "log"
    in_files = {path.name: _count(path.read_text(), VIEW_RECORDS) for path in log_dir.iterdir()}
    access_path = log_dir / "access.log"
    access_lines = _count(access_path.read_text(), ('"GET / HTTP/1.1" 200',)) if access_path.exists() else 0

    assert {name: count for name, count in in_files.items() if count} == files
    assert _count(app.output(), CONSOLE_LINES) == console
    assert access_lines == access


def test_without_console_drops_the_console_handler_from_every_logger_and_keeps_the_rest():
    production = {
        "handlers": {"file": {"class": "F"}, "console": {"class": "S"}},
        "loggers": {"django": {"handlers": ["file", "console"]}, "django.security": {"level": "INFO"}},
        "root": {"handlers": ["console"], "level": "WARNING"},
    }

    assert without_console(production) == {
        "handlers": {"file": {"class": "F"}},
        "loggers": {"django": {"handlers": ["file"]}, "django.security": {"level": "INFO"}},
        "root": {"handlers": [], "level": "WARNING"},
    }
    assert production["handlers"]["console"] == {"class": "S"}
