"""The live tests' HTTP helpers, offline: against a real http.server and the real app on loopback."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.integration.http_client import csrf_token, http_client, json_body, text_by_id
from tests.support.app_server import DEMO_PASSWORD, DEMO_USERNAME, running_app

# How long /slow holds its answer at most; the client's timeout in that test is far shorter.
SLOW_HOLD_SECONDS = 30
SHORT_TIMEOUT_SECONDS = 0.3


class _Handler(BaseHTTPRequestHandler):
    """A few fixed answers; records every path it is asked for."""

    def do_GET(self):
        self.server.paths.append(self.path)
        if self.path == "/redirect":
            self._answer(302, b"", {"Location": "/target"})
        elif self.path == "/set-cookie":
            self._answer(200, b"set", {"Set-Cookie": "session=abc123; Path=/"})
        elif self.path == "/echo":
            echoed = {name: self.headers.get(name) for name in ("Cookie", "Authorization")}
            self._answer(200, json.dumps(echoed).encode(), {"Content-Type": "application/json"})
        elif self.path.startswith("/status/"):
            self._answer(int(self.path.removeprefix("/status/")), b"not here")
        elif self.path == "/slow":
            self.server.release.wait(SLOW_HOLD_SECONDS)
            self._answer(200, b"late")
        else:
            self._answer(200, b"target")

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@contextmanager
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.paths = []
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server():
    with local_server() as running:
        yield running


def test_a_redirect_is_returned_not_followed(server):
    httpd, url = server
    with http_client(url) as client:
        response = client.get("/redirect")
    assert (response.status_code, response.headers.get("Location")) == (302, "/target")
    assert httpd.paths == ["/redirect"]


def test_cookies_are_kept_across_requests(server):
    _httpd, url = server
    with http_client(url) as client:
        client.get("/set-cookie")
        echoed = json_body(client.get("/echo"))
    assert echoed["Cookie"] == "session=abc123"


def test_each_client_has_its_own_cookie_jar(server):
    _httpd, url = server
    with http_client(url) as first, http_client(url) as second:
        first.get("/set-cookie")
        echoed = json_body(second.get("/echo"))
    assert echoed["Cookie"] is None


@pytest.mark.parametrize("status", [404, 500, 503])
def test_an_error_status_is_returned_not_raised(server, status):
    _httpd, url = server
    with http_client(url) as client:
        response = client.get(f"/status/{status}")
    assert (response.status_code, response.content) == (status, b"not here")


def test_basic_auth_goes_with_the_first_request(server):
    _httpd, url = server
    with http_client(url, auth=("elastic", "pw")) as client:
        echoed = json_body(client.get("/echo"))
    # base64 of "elastic:pw"
    assert echoed["Authorization"] == "Basic ZWxhc3RpYzpwdw=="


def test_a_server_that_does_not_answer_times_out(server):
    _httpd, url = server
    with http_client(url, timeout_seconds=SHORT_TIMEOUT_SECONDS) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/slow")


def test_proxy_settings_in_the_environment_are_ignored(server, monkeypatch):
    httpd, url = server
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        # Port 9 (discard) has no proxy here: a client that used it could not reach the server.
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with http_client(url) as client:
        response = client.get("/target")
    assert (response.status_code, httpd.paths) == (200, ["/target"])


def test_json_body_names_the_status_of_a_page_that_is_not_json(server):
    _httpd, url = server
    with http_client(url) as client:
        response = client.get("/status/503")
    with pytest.raises(AssertionError, match=r"expected JSON, got HTTP 503: 'not here'"):
        json_body(response)


def test_a_page_without_a_csrf_field_is_refused():
    with pytest.raises(AssertionError, match="renders no form with a CSRF token"):
        csrf_token(httpx.Client(), "<form><input name='username'></form>")


def test_text_by_id_reads_the_text_directly_inside_each_element_with_an_id():
    page = '<h1>Signed in as <span id="username">demo</span></h1><p id="login-error">No match.</p><p>x</p>'
    assert text_by_id(page) == {"username": "demo", "login-error": "No match."}


def test_login_form_helpers_sign_in_and_out_of_the_real_app(tmp_path):
    with running_app(tmp_path, workers=1) as app, http_client(app.base_url) as client:
        login_form = client.get("/accounts/login/")
        assert login_form.status_code == 200
        without_token = client.post("/accounts/login/", data={"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
        assert without_token.status_code == 403

        login = client.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": csrf_token(client, login_form.text), "username": DEMO_USERNAME,
                  "password": DEMO_PASSWORD},
        )
        assert (login.status_code, login.headers.get("Location")) == (302, "/account/")
        account = client.get("/account/")
        assert account.status_code == 200
        assert text_by_id(account.text).get("username") == DEMO_USERNAME

        logout = client.post("/accounts/logout/", data={"csrfmiddlewaretoken": csrf_token(client, account.text)})
        assert (logout.status_code, logout.headers.get("Location")) == (302, "/accounts/login/")
        assert client.get("/account/").status_code == 302

        retry_form = client.get("/accounts/login/")
        assert retry_form.status_code == 200
        failed = client.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": csrf_token(client, retry_form.text), "username": "intruder",
                  "password": "wrong-password-1"},
        )
        assert failed.status_code == 200
        assert "login-error" in text_by_id(failed.text)
