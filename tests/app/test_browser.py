"""A real browser signs in, signs out and fails a login; security.log must show exactly those three events.

Chromium comes from CHROMIUM_PATH, else Debian's /usr/bin/chromium, else
Playwright's bundled browser (``playwright install`` cannot download here).
"""

import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, Response, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.app.test_log_records import ORIGIN
from tests.support.app_server import DEMO_PASSWORD, DEMO_USERNAME, running_app
from tests.support.browser import CHROMIUM_FLAGS, cannot_launch, chromium_executable

LAUNCH_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 15_000
# Django's default SESSION_COOKIE_NAME; the settings keep it.
SESSION_COOKIE_NAME = "sessionid"
INTRUDER_USERNAME = "mallory-browser"
INTRUDER_PASSWORD = "Not-The-Password-8315"

# The documented security line: level, timestamp, module, bracketed context, message.
SECURITY_LINE = re.compile(
    r"^(?P<level>INFO|WARNING) "
    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} "
    r"signals "
    r"\[request_id=(?P<request_id>[0-9a-f]{32}) "
    r"record_id=[0-9a-f]{16} "
    r"event=(?P<event>[a-z_]+) "
    r"event_code=(?P<event_code>[a-z_]+) "
    r"user=(?P<user>[A-Za-z0-9._:/@+-]+) "
    r"client_ip=127\.0\.0\.1 "
    r"peer_ip=127\.0\.0\.1 "
    r"path=(?P<path>/[A-Za-z0-9._/-]*) "
    r'user_agent="(?P<user_agent>[^"]*(?:Headless)?Chrome/[0-9][^"]*)"' + ORIGIN + r"\] "
    r"(?P<message>.+)$"
)


def launch_browser(playwright: Playwright, profile_dir: Path) -> BrowserContext:
    executable = chromium_executable()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            timeout=LAUNCH_TIMEOUT_MS,
        )
    except PlaywrightError as error:
        cannot_launch(executable, error)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    return context


@contextmanager
def chromium(profile_dir: Path):
    profile_dir.mkdir()
    with sync_playwright() as playwright:
        context = launch_browser(playwright, profile_dir)
        try:
            yield context
        finally:
            context.close()


def is_post_to(path: str):
    return lambda response: response.request.method == "POST" and response.url.endswith(path)


def submit_login(page: Page, username: str, password: str) -> Response:
    """Type the credentials into the real form and click its button; returns the POST's response."""
    expect(page.locator("input[name=csrfmiddlewaretoken]")).to_have_value(re.compile(r"^\S{32,}$"))
    page.locator("#id_username").press_sequentially(username)
    page.locator("#id_password").press_sequentially(password)
    with page.expect_response(is_post_to("/accounts/login/")) as login_post:
        page.locator("#sign-in").click()
    return login_post.value


# running_app's create_demo_user, before the browser: the demo user's creation, outside any request.
DEMO_USER_CREATED = re.compile(
    r"WARNING \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} account_changes \[request_id=- record_id=[0-9a-f]{16} "
    rf"event=user_created event_code=user_created target_user={DEMO_USERNAME}{ORIGIN}\] "
    rf"User created: {DEMO_USERNAME} via manage\.py create_demo_user \(pid \d+\)"
)


def security_lines(log_dir: Path) -> list[dict[str, str]]:
    """The browser's records, parsed, after the demo user's creation."""
    created, *lines = (log_dir / "security.log").read_text(encoding="utf-8").splitlines()
    assert DEMO_USER_CREATED.fullmatch(created), created
    parsed = []
    for line in lines:
        match = SECURITY_LINE.fullmatch(line)
        assert match, f"security.log line does not match the documented contract:\n{line}"
        parsed.append(match.groupdict())
    return parsed


@pytest.mark.timeout(180)
def test_browser_login_logout_and_failed_login_are_security_events(tmp_path):
    # The browser closes first: its idle preconnected sockets would hold gunicorn's sync workers on shutdown.
    with running_app(tmp_path / "app") as app, chromium(tmp_path / "chromium-profile") as browser_context:
        page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
        page.goto(app.base_url + "/accounts/login/")
        login = submit_login(page, DEMO_USERNAME, DEMO_PASSWORD)
        assert login.status == 302, f"demo login was not accepted: HTTP {login.status}"
        expect(page).to_have_url(app.base_url + "/account/")
        expect(page.locator("#username")).to_have_text(DEMO_USERNAME)
        assert "csrfmiddlewaretoken" in parse_qs(login.request.post_data), "the login form posted no CSRF token"
        cookies = browser_context.cookies(app.base_url)
        session_cookies = [cookie["value"] for cookie in cookies if cookie["name"] == SESSION_COOKIE_NAME]
        assert len(session_cookies) == 1 and session_cookies[0], "signing in set no session cookie"
        session_cookie = session_cookies[0]
        user_agent = page.evaluate("navigator.userAgent")

        with page.expect_response(is_post_to("/accounts/logout/")) as logout_post:
            page.locator("#sign-out").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/$"))
        assert SESSION_COOKIE_NAME not in {c["name"] for c in browser_context.cookies(app.base_url)}

        failed = submit_login(page, INTRUDER_USERNAME, INTRUDER_PASSWORD)
        assert failed.status == 200, f"a wrong password should re-show the form, got HTTP {failed.status}"
        expect(page.locator("#login-error")).to_be_visible()
        expect(page.locator("#login-error")).to_contain_text("didn't match")
        request_ids = {
            "user_logged_in": login.header_value("X-Request-ID"),
            "user_logged_out": logout_post.value.header_value("X-Request-ID"),
            "user_login_failed": failed.header_value("X-Request-ID"),
        }
    # Browser and gunicorn have stopped: every record is on disk.

    assert security_lines(app.log_dir) == [
        {
            "level": "INFO",
            "request_id": request_ids["user_logged_in"],
            "event": "user_logged_in",
            "event_code": "authn_login_success",
            "user": DEMO_USERNAME,
            "path": "/accounts/login/",
            "user_agent": user_agent,
            "message": f"User logged in: {DEMO_USERNAME}",
        },
        {
            "level": "INFO",
            "request_id": request_ids["user_logged_out"],
            "event": "user_logged_out",
            "event_code": "session_expired",
            "user": DEMO_USERNAME,
            "path": "/accounts/logout/",
            "user_agent": user_agent,
            "message": f"User logged out: {DEMO_USERNAME}",
        },
        {
            "level": "WARNING",
            "request_id": request_ids["user_login_failed"],
            "event": "user_login_failed",
            "event_code": "authn_login_fail",
            "user": INTRUDER_USERNAME,
            "path": "/accounts/login/",
            "user_agent": user_agent,
            "message": f"Login failed: {INTRUDER_USERNAME}",
        },
    ]

    log_files = sorted(path for path in app.log_dir.rglob("*") if path.is_file())
    assert app.log_dir / "security.log" in log_files
    for secret in (DEMO_PASSWORD, INTRUDER_PASSWORD, session_cookie):
        for log_file in log_files:
            assert secret.encode() not in log_file.read_bytes(), f"a credential leaked into {log_file.name}"
