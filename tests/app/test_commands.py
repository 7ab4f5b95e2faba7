"""The management commands: the idempotent demo user and the bounded traffic generator."""

import functools
import http.server
import io
import re
import threading

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tests.app.test_log_records import ORIGIN
from tests.support.app_server import DEMO_USERNAME, app_environment, free_port, manage, running_app

STRONG_PASSWORD = "Plenty-Of-Entropy-9431"


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


# Committed: the records are written on commit (django_elk_logging/committed.py).
@pytest.mark.django_db(transaction=True)
def test_create_demo_user_is_idempotent_and_updates_a_changed_password(monkeypatch, app_logs):
    monkeypatch.setenv("DEMO_USERNAME", "demo")
    monkeypatch.setenv("DEMO_PASSWORD", STRONG_PASSWORD)

    assert run("create_demo_user") == "Demo user 'demo' created.\n"
    assert run("create_demo_user") == "Demo user 'demo' unchanged.\n"
    monkeypatch.setenv("DEMO_PASSWORD", STRONG_PASSWORD + "-rotated")
    assert run("create_demo_user") == "Demo user 'demo' updated.\n"

    [user] = User.objects.filter(username="demo")
    assert user.check_password(STRONG_PASSWORD + "-rotated")
    assert not user.is_staff and not user.is_superuser
    # The creation is a user_created; only the update is a password change (the new user got its password as it
    # was created).
    created, changed = app_logs.lines("security.log")
    assert re.fullmatch(r"WARNING \S+ \S+ account_changes \[request_id=- record_id=[0-9a-f]{16} event=user_created "
                        rf"event_code=user_created target_user=demo{ORIGIN}\] User created: demo via \S+ \(pid \d+\)",
                        created), created
    assert re.fullmatch(r"INFO \S+ \S+ password_events \[request_id=- record_id=[0-9a-f]{16} event=password_changed "
                        rf"event_code=authn_password_change target_user=demo{ORIGIN}\] Password changed by \S+ \(pid \d+\): demo",
                        changed), changed
    assert STRONG_PASSWORD not in app_logs.text("security.log") + app_logs.text("django_debug.log")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, password, message",
    [
        ("", STRONG_PASSWORD, "DEMO_USERNAME is not set"),
        ("demo", "", "DEMO_PASSWORD is not set"),
        ("demo", "password", "DEMO_PASSWORD is too weak: This password is too common."),
        ("demo", "12345678901", "DEMO_PASSWORD is too weak:"),
    ],
)
def test_create_demo_user_refuses_missing_or_weak_settings(monkeypatch, username, password, message):
    monkeypatch.setenv("DEMO_USERNAME", username)
    monkeypatch.setenv("DEMO_PASSWORD", password)

    with pytest.raises(CommandError, match=re.escape(message)):
        run("create_demo_user")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--requests", "0"], "--requests=0 is out of range"),
        (["--concurrency", "65"], "--concurrency=65 is out of range"),
        (["--max-seconds", "0"], "--max-seconds=0.0 is out of range"),
        (["--base-url", "ftp://example"], "--base-url='ftp://example' is not an http(s) URL."),
    ],
)
def test_generate_traffic_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("generate_traffic", *args)


def test_generate_traffic_fails_clearly_when_nothing_answers():
    with pytest.raises(CommandError, match=r"Every request to http://127\.0\.0\.1:\d+/ failed: is the app running\?"):
        run("generate_traffic", "--base-url", f"http://127.0.0.1:{free_port()}/", "--requests", "3")


def test_generate_traffic_stops_with_a_command_error_at_a_login_page_without_a_csrf_token(tmp_path):
    (tmp_path / "accounts" / "login").mkdir(parents=True)
    (tmp_path / "accounts" / "login" / "index.html").write_text("<p>Not the demo app</p>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/"
        try:
            # Seed 1 plans failed logins among the 20 (no demo credentials: every login is a failed one).
            with pytest.raises(CommandError, match=re.escape(f"No CSRF token in {url}accounts/login/: is this the demo app?")):
                run("generate_traffic", "--base-url", url, "--requests", "20", "--seed", "1", "--username", "")
        finally:
            server.shutdown()


def test_generate_traffic_produces_the_realistic_mix_against_real_gunicorn(tmp_path):
    with running_app(tmp_path) as app:
        # The demo credentials come from DEMO_USERNAME / DEMO_PASSWORD, as in `make demo`.
        result = manage(
            app_environment(tmp_path),
            "generate_traffic", "--base-url", app.base_url, "--requests", "120", "--concurrency", "4", "--seed", "7",
        )
    assert result.returncode == 0, result.stderr

    statuses = re.findall(r'" (\d{3}) ', (app.log_dir / "access.log").read_text())
    assert {"200", "302", "403", "404", "500"} <= set(statuses)
    events = re.findall(r"event=(\w+)", (app.log_dir / "security.log").read_text())
    assert {"user_logged_in", "user_logged_out", "user_login_failed", "permission_denied"} <= set(events)
    assert events.count("user_logged_in") == events.count("user_logged_out")
    app_log = (app.log_dir / "django_debug.log").read_text()
    assert "Internal Server Error: /boom/" in app_log and "Not Found: /missing/page-" in app_log
    assert " failed: " not in result.stdout
    assert f"user={DEMO_USERNAME} " in (app.log_dir / "security.log").read_text()
