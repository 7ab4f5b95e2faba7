"""An HTTP visitor of the sample app (standard library only): cookies, CSRF login, logout, no redirects.

generate_traffic and the drills (drills.py) send their requests through it. Optionally every
connection binds to one client address, so the app logs that address as the request's client_ip.
"""

import functools
import http.client
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class TrafficError(Exception):
    """The app answered something a visitor cannot go on from (e.g. a login page without a CSRF token)."""


def csrf_token(page: str) -> str | None:
    """The token of the first form in ``page`` that Django's CSRF protection filled in."""
    match = _CSRF_INPUT.search(page)
    return match.group(1) if match else None


class Session:
    """One simulated visitor: its own cookies and user agent, and optionally its own client address."""

    def __init__(self, base_url: str, user_agent: str, timeout: float, source_address: str | None = None):
        self.base_url = base_url
        self.timeout = timeout
        self.user_agent = user_agent
        handlers = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()]
        if source_address is not None:
            # Only plain HTTP binds (the app serves it on loopback): an https URL would not be bound.
            if urllib.parse.urlsplit(base_url).scheme != "http":
                raise ValueError(f"A source address needs an http:// base URL, not {base_url!r}.")
            handlers.append(_BoundHTTPHandler(source_address))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, path: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
        """GET ``path`` (POST ``data`` form-encoded when given); the status and body, whatever the status."""
        url = urllib.parse.urljoin(self.base_url, path)
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            url, data=body, headers={"User-Agent": self.user_agent, "Referer": url, **(headers or {})}
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def login(self, username: str, password: str) -> int:
        _, page = self.request("/accounts/login/")
        token = csrf_token(page)
        if token is None:
            raise TrafficError(f"No CSRF token in {self.base_url}accounts/login/: is this the demo app?")
        status, _ = self.request(
            "/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        return status

    def logout(self) -> int:
        _, page = self.request("/account/")
        status, _ = self.request("/accounts/logout/", {"csrfmiddlewaretoken": csrf_token(page) or ""})
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# urllib's handlers build each connection as http_class(host, timeout=..., **http_conn_args)
# (CPython Lib/urllib/request.py, AbstractHTTPHandler.do_open); http.client binds it to
# source_address before connecting (Lib/http/client.py, HTTPConnection.connect); port 0: any free one.
class _BoundHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, source_address: str):
        super().__init__()
        self.source_address = (source_address, 0)

    def http_open(self, req):
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=self.source_address), req)
