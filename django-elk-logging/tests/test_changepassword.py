"""``manage.py changepassword`` in a terminal: the package's command (django_elk_logging first in INSTALLED_APPS)
logs the change, and the refusal after three mismatched passwords, naming itself; no password in any file."""

import os
import pty
import re
import select
import sys
import time

import pytest

from projects import new_project
from servers import environment
from test_request_events import RECORD_ID, TIMESTAMP

SETTINGS = """
from django_elk_logging.logging_settings import elk_logging

INSTALLED_APPS = ["django_elk_logging", "django.contrib.auth", "django.contrib.contenttypes"]
LOGGING = elk_logging(BASE_DIR / "logs")
"""
FIRST = "First-Meadow-3381"
SECOND = "Second-Glacier-7702"
PROMPT = re.compile(rb"Password(?: \(again\))?: ")
TERMINAL_TIMEOUT = 60


@pytest.fixture
def project(tmp_path):
    project = new_project(tmp_path, SETTINGS)
    project.run("""
        from django.contrib.auth import get_user_model
        get_user_model().objects.create_user("bob", password=PASSWORD)
        print(json.dumps({}))
    """)
    return project


def in_terminal(project, answers: list[str], *argv: str) -> tuple[int, str]:
    """``python -m django *argv`` on a terminal of its own (getpass reads /dev/tty), typing each answer at a
    password prompt; its exit status and what it wrote."""
    env = environment(project.folder, DJANGO_SETTINGS_MODULE="project_settings")
    pid, terminal = pty.fork()
    if pid == 0:
        os.chdir(project.folder)
        os.execve(sys.executable, [sys.executable, "-m", "django", *argv], env)
    written = b""
    deadline = time.monotonic() + TERMINAL_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 1)
        if ready:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # EIO: the command exited and closed the terminal
                break
            if not chunk:
                break
            written += chunk
            prompts = len(PROMPT.findall(written))
            if 0 < prompts <= len(answers) and written.endswith(PROMPT.findall(written)[-1]):
                os.write(terminal, answers[prompts - 1].encode() + b"\n")
    os.close(terminal)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), written.decode(errors="replace")


def assert_no_password_in(project, *passwords: str) -> None:
    for path in project.log_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not any(password in text for password in passwords), path.name


def test_a_password_changed_by_the_command_names_the_command(project):
    status, written = in_terminal(project, [FIRST, FIRST], "changepassword", "bob")

    assert status == 0, written
    assert "Password changed successfully for user 'bob'" in written
    [found] = project.lines("security.log")
    assert re.fullmatch(
        rf"INFO {TIMESTAMP} password_events \[request_id=- record_id={RECORD_ID} event=password_changed "
        r"event_code=authn_password_change target_user=bob\] Password changed for bob by manage\.py changepassword "
        r"\(pid \d+\)", found), found
    assert_no_password_in(project, FIRST)


def test_three_mismatches_are_a_failed_change_naming_the_command(project):
    status, written = in_terminal(project, [FIRST, SECOND] * 3, "changepassword", "bob")

    assert status == 1, written
    assert written.count("Passwords do not match. Please try again.") == 3
    [found] = project.lines("security.log")
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} changepassword \[request_id=- record_id={RECORD_ID} event=password_change_failed "
        r"event_code=authn_password_change_fail target_user=bob\] Password change failed for bob by manage\.py "
        r"changepassword \(pid \d+\): Aborting password change for user 'bob' after 3 attempts", found), found
    assert_no_password_in(project, FIRST, SECOND)


def test_an_unknown_user_is_a_failed_change(project):
    status, written = in_terminal(project, [], "changepassword", "nobody\u202e")

    assert status == 1, written
    [found] = project.lines("security.log")
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} changepassword \[request_id=- record_id={RECORD_ID} event=password_change_failed "
        r'event_code=authn_password_change_fail target_user="nobody\\u202e"\] Password change failed for '
        r"nobody\\u202e by manage\.py changepassword \(pid \d+\): user 'nobody\\u202e' does not exist", found), found
