"""Property: whatever a client sends, each security event is one line that both grok expressions parse.

Usernames, user agents and paths go through the real Django app (test client)
into the real log file; the line is then read back with the seed grok
expression and with the pipeline's own rules (logstash/pipeline/django.conf).
"""

import codecs
import functools
import re
import unicodedata
import urllib.parse
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stack_models.grok import PYGROK_PATTERNS_DIR, Grok, load_patterns
from stack_models.logstash_pipeline import Pipeline
from tests.support.engines import engine_for_tests

pytestmark = pytest.mark.django_db

SEED_EXPRESSION = "%{LOGLEVEL:loglevel} %{TIMESTAMP_ISO8601:timestamp} %{GREEDYDATA:message}"
TRUNCATED = re.compile(r"\.\.\.\[truncated (\d+) chars\]\Z")
# Everything that could end or fake a line: C0/C1 controls, ANSI escapes, Unicode line and paragraph separators.
HOSTILE_PIECES = st.sampled_from(
    ["\r", "\n", "\r\n", "\x00", "\x1b[31m", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\t", '"', "\\", "]", "[",
     "=", " ", "user=root", "\nINFO 2026-11-26 12:00:00,000 views [request_id=x] forged", "\u202e", "\ufeff"]
)
HOSTILE_TEXT = st.lists(st.one_of(HOSTILE_PIECES, st.text(max_size=20)), max_size=12).map("".join)
LONG_TEXT = st.integers(min_value=9_000, max_value=10_240).flatmap(
    lambda size: st.just(("\n\x1b" * size)[:size])
)
VALUES = st.one_of(HOSTILE_TEXT, LONG_TEXT, st.text(max_size=200))



@functools.cache
def seed_grok() -> Grok:
    # Hostile text is where Python's regex and Joni are likeliest to differ: every match runs on both.
    return Grok(SEED_EXPRESSION, load_patterns(PYGROK_PATTERNS_DIR), engine=engine_for_tests())


@functools.cache
def pipeline() -> Pipeline:
    environment = {"LOGSTASH_WRITER_PASSWORD": "unused"}
    return Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, environment, engine=engine_for_tests())


def unescape(logged: str) -> tuple[str, int]:
    """Undo the log escaping with Python's own decoder; returns the text and how many chars were cut."""
    cut = TRUNCATED.search(logged)
    if cut:
        logged = logged[: cut.start()]
    decoded = codecs.decode(logged.encode("latin-1", "backslashreplace"), "unicode_escape")
    return decoded, int(cut.group(1)) if cut else 0


def assert_round_trips(logged: str, original: str) -> None:
    decoded, cut = unescape(logged)
    if cut:
        assert original.startswith(decoded) and len(decoded) + cut == len(original)
    else:
        assert decoded == original


def parse_one_event(log_path: Path, text: str):
    [event] = pipeline().read(log_path, text)
    pipeline().filter(event)
    return event


def check_single_line_event(log_path: Path, text: str):
    assert text.endswith("\n") and text.count("\n") == 1
    line = text[:-1]
    assert line.splitlines() == [line], "a value broke the line"
    seed = seed_grok().match(line)
    assert seed is not None and seed["loglevel"] in ("INFO", "WARNING", "ERROR")
    event = parse_one_event(log_path, text)
    assert "tags" not in event, event.get("tags")
    return event


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=VALUES, user_agent=VALUES)
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_failed_login_with_hostile_username_and_user_agent_is_one_parsable_line(app_logs, username, user_agent):
    app_logs.mark()

    Client(HTTP_USER_AGENT=user_agent).post("/accounts/login/", {"username": username, "password": "x"})

    text = app_logs.text("security.log")
    submitted = username.strip()  # as Django's UsernameField cleans it: NFKC unless overlong
    if len(submitted) <= 150:
        submitted = unicodedata.normalize("NFKC", submitted)
    event = check_single_line_event(app_logs.log_dir / "security.log", text)
    assert event["event"]["action"] == "user_login_failed"
    # The login form refuses these before authenticating; AuthEventsMiddleware logs them, as typed.
    if not submitted:
        assert event["message"] == "Login failed (empty username)" and "user" not in event
        return
    if "\x00" in submitted:
        assert_round_trips(event["user"]["name"], username)
        assert_round_trips(event["message"].removeprefix("Login failed (username refused: null_characters_not_allowed): "),
                           username)
        return
    assert_round_trips(event["user"]["name"], submitted)
    assert_round_trips(event["message"].removeprefix("Login failed: "), submitted)
    if user_agent:
        assert_round_trips(event["user_agent"]["original"], user_agent)
    else:
        assert "user_agent" not in event


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=VALUES)
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_any_username_given_to_authenticate_is_one_parsable_line(app_logs, username):
    # APIs call authenticate() without the form's cleaning: NUL bytes and 10 KB names reach the signal.
    app_logs.mark()

    assert authenticate(username=username, password="x") is None

    event = check_single_line_event(app_logs.log_dir / "security.log", app_logs.text("security.log"))
    assert event["event"]["action"] == "user_login_failed"
    assert "http" not in event  # outside a request there is no request id
    if username:
        assert_round_trips(event["user"]["name"], username)
    assert_round_trips(event["message"].removeprefix("Login failed: "), username)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=VALUES)
def test_hostile_path_in_a_security_event_is_one_parsable_line(app_logs, path):
    app_logs.mark()

    Client().get("/" + urllib.parse.quote(path, safe=""), HTTP_HOST="evil.example")

    text = app_logs.text("security.log")
    [record] = app_logs.records("security.log")
    first_line = record.split("\n")[0] + "\n"
    event = check_single_line_event(app_logs.log_dir / "security.log", first_line)
    assert event["event"]["action"] == "disallowed_host"
    assert_round_trips(event["url"]["path"], "/" + path)
    assert text.startswith(first_line)


# "admin" with a piece drawn as nothing or as blank space (escaping.py's classes), before, inside or after it.
LOOK_ALIKE_PIECES = [
    " ", "\u00a0", "\u2000", "\u200a", "\u202f", "\u3000", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800",
    "\u034f", "\ufe0f", "\U000e0100", "\u180b", "\u17b4", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad",
    "\u0301", "\u0301\u0301",
]
# What renderers draw as nothing (besides format characters): escaping.py's table, copied from Unicode's
# DerivedCoreProperties.txt (Default_Ignorable_Code_Point outside C* and Z*) with U+2800.
INVISIBLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164,
             *range(0xFE00, 0xFE10), 0xFFA0, *range(0xE0100, 0xE01F0)}


def visible(text: str) -> str:
    """What a reader sees: what is drawn as nothing removed, blank space as a space, the line's end trimmed."""
    shown = (" " if unicodedata.category(ch)[0] == "Z" else ch for ch in text
             if ord(ch) not in INVISIBLE and unicodedata.category(ch) not in ("Cf", "Cc"))
    return "".join(shown).rstrip(" ")


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_look_alike_variants_of_admin_never_give_lines_that_look_alike(app_logs):
    # authenticate(), as an API calls it: no form normalises the name first.
    variants = ["admin", *(("admin"[:at] + piece + "admin"[at:]) for piece in LOOK_ALIKE_PIECES for at in (0, 3, 5))]
    shown = {}
    for variant in variants:
        app_logs.mark()
        assert authenticate(username=variant, password="x") is None
        text = app_logs.text("security.log")
        event = check_single_line_event(app_logs.log_dir / "security.log", text)
        assert_round_trips(event["user"]["name"], variant)
        # The line from the user field on: what the timestamp and record id leave the same for one name.
        shown[variant] = visible(text[text.index(" user="):])

    assert len(set(shown.values())) == len(variants), [name for name in variants if list(shown.values()).count(shown[name]) > 1]
