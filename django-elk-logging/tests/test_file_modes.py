"""A log file the package's handler creates is 0640 (owner read-write, group read: the log shipper's
group) whatever the umask of the process: one that takes more (077) or less (002, 0) than the usual 022.
A file that exists already keeps its mode, and a rename (the stack's rotation) keeps it too.
"""

import logging
import os
import stat

import pytest

from django_elk_logging.log_files import AppendOnlyFileHandler
from servers import environment, free_port, request, serving

UMASKS = [0o022, 0o077, 0o002, 0o000]


@pytest.fixture
def umask():
    """Sets the process's umask for the test, then puts the old one back."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def log_one_record(handler: logging.Handler, text: str = "a record") -> None:
    handler.emit(logging.makeLogRecord({"msg": text}))


@pytest.mark.parametrize("mask", UMASKS, ids=oct)
@pytest.mark.parametrize("delay", [False, True])
def test_the_handler_creates_its_file_0640_whatever_the_umask(tmp_path, umask, mask, delay):
    umask(mask)
    handler = AppendOnlyFileHandler(tmp_path / "app.log", delay=delay)
    log_one_record(handler)
    handler.close()

    assert mode(tmp_path / "app.log") == 0o640
    assert (tmp_path / "app.log").read_text() == "a record\n"


def test_after_a_rename_the_file_created_again_is_0640_and_the_renamed_one_keeps_its_mode(tmp_path, umask):
    umask(0o077)
    handler = AppendOnlyFileHandler(tmp_path / "app.log")
    log_one_record(handler, "before")
    (tmp_path / "app.log").rename(tmp_path / "app.log.1")
    log_one_record(handler, "after")
    handler.close()

    assert (mode(tmp_path / "app.log.1"), mode(tmp_path / "app.log")) == (0o640, 0o640)
    assert (tmp_path / "app.log").read_text() == "after\n"


def test_a_file_that_exists_keeps_the_mode_its_owner_gave_it(tmp_path, umask):
    (tmp_path / "app.log").write_text("")
    (tmp_path / "app.log").chmod(0o600)
    handler = AppendOnlyFileHandler(tmp_path / "app.log")
    log_one_record(handler)
    handler.close()

    assert mode(tmp_path / "app.log") == 0o600


def test_the_permissions_can_be_set_per_handler(tmp_path, umask):
    umask(0o077)
    handler = AppendOnlyFileHandler(tmp_path / "app.log", permissions=0o644)
    log_one_record(handler)
    handler.close()

    assert mode(tmp_path / "app.log") == 0o644


GUNICORN_CONFIG = """
from django_elk_logging.gunicorn import AccessLogger, log_config_dict

bind = "127.0.0.1:{port}"
workers = 1
control_socket_disable = True
logger_class = AccessLogger
logconfig_dict = log_config_dict({log_dir!r})
"""


@pytest.mark.parametrize("mask", [0o022, 0o077], ids=oct)
def test_gunicorn_creates_its_access_log_0640_through_log_config_dict(tmp_path, mask):
    port = free_port()
    (tmp_path / "gunicorn.conf.py").write_text(GUNICORN_CONFIG.format(port=port, log_dir=str(tmp_path)))
    command = ["gunicorn", "--config", str(tmp_path / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    with serving(command, port, environment(), tmp_path, umask=mask):
        assert request(port, "GET", "/")[0] == 200

    assert mode(tmp_path / "access.log") == 0o640
    assert '"GET / HTTP/1.1" 200' in (tmp_path / "access.log").read_text()
