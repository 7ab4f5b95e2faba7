"""``manage.py changepassword`` in a terminal: the package's command (django_elk_logging first in INSTALLED_APPS)
logs the change, and the refusal after three mismatched passwords, naming itself; no password in any file."""

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from projects import new_project
from servers import environment
from test_request_events import ORIGIN, RECORD_ID, TIMESTAMP

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


# Makes the terminal on stdin the controlling one of this new session (subprocess's start_new_session), so
# /dev/tty is it, then runs Django's command line.
ON_ITS_TERMINAL = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                   "os.execv(sys.executable, [sys.executable, '-m', 'django', *sys.argv[1:]])")


def in_terminal(project, answers: list[str], *argv: str) -> tuple[int, str]:
    """``python -m django *argv`` on a terminal of its own (getpass reads /dev/tty), typing each answer at a
    password prompt; its exit status and what it wrote."""
    env = environment(project.folder, DJANGO_SETTINGS_MODULE="project_settings")
    terminal, its_end = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", ON_ITS_TERMINAL, *argv], cwd=project.folder, env=env,
                               stdin=its_end, stdout=its_end, stderr=its_end, start_new_session=True)
    os.close(its_end)
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
            prompts = PROMPT.findall(written)
            if 0 < len(prompts) <= len(answers) and written.endswith(prompts[-1]):
                os.write(terminal, answers[len(prompts) - 1].encode() + b"\n")
    os.close(terminal)
    return process.wait(timeout=TERMINAL_TIMEOUT), written.decode(errors="replace")


def lines_since_setup(project) -> list[str]:
    """The security records after the fixture's: its create_user is a user_created record, not the subject."""
    setup, *written = project.lines("security.log")
    assert re.fullmatch(rf"WARNING {TIMESTAMP} account_changes \[request_id=- record_id={RECORD_ID} event=user_created "
                        rf"event_code=user_created target_user=bob{ORIGIN}\] User created: bob via \S+ \(pid \d+\)", setup), setup
    return written


def assert_no_password_in(project, *passwords: str) -> None:
    for path in project.log_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not any(password in text for password in passwords), path.name


def test_a_password_changed_by_the_command_names_the_command(project):
    status, written = in_terminal(project, [FIRST, FIRST], "changepassword", "bob")

    assert status == 0, written
    assert "Password changed successfully for user 'bob'" in written
    [found] = lines_since_setup(project)
    assert re.fullmatch(
        rf"INFO {TIMESTAMP} password_events \[request_id=- record_id={RECORD_ID} event=password_changed "
        rf"event_code=authn_password_change target_user=bob{ORIGIN}\] Password changed by manage\.py changepassword \(pid \d+\): "
        r"bob", found), found
    assert_no_password_in(project, FIRST)


def test_three_mismatches_are_a_failed_change_naming_the_command(project):
    status, written = in_terminal(project, [FIRST, SECOND] * 3, "changepassword", "bob")

    assert status == 1, written
    assert written.count("Passwords do not match. Please try again.") == 3
    [found] = lines_since_setup(project)
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} changepassword \[request_id=- record_id={RECORD_ID} event=password_change_failed "
        rf"event_code=authn_password_change_fail target_user=bob{ORIGIN}\] Password change by manage\.py changepassword "
        r"\(pid \d+\) failed: Aborting password change for user 'bob' after 3 attempts", found), found
    assert_no_password_in(project, FIRST, SECOND)


def test_an_unknown_user_is_a_failed_change(project):
    status, written = in_terminal(project, [], "changepassword", "nobody\u202e")

    assert status == 1, written
    [found] = lines_since_setup(project)
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} changepassword \[request_id=- record_id={RECORD_ID} event=password_change_failed "
        rf'event_code=authn_password_change_fail target_user="nobody\\u202e"{ORIGIN}\] Password change by manage\.py '
        r"changepassword \(pid \d+\) failed: user 'nobody\\u202e' does not exist", found), found
