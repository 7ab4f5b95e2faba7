"""HTTP for the live tests: an httpx client that shows every hop as it is.

Redirects are not followed and error statuses are not raised, so each test
checks each hop itself; cookies are kept across requests, as a browser does.
The client talks to the stack's loopback ports directly: no proxy or .netrc
from the environment (trust_env=False), as the Elasticsearch client does.
Over HTTPS it verifies with the context it is given (StackAccess.ssl_context,
drill/settings.py: the stack's own CA under the tls and cluster profiles).
"""

import json
import ssl
from html.parser import HTMLParser
from typing import Any

import httpx

HTTP_TIMEOUT_SECONDS = 10
# Django's default CSRF_COOKIE_NAME; the app keeps it.
CSRF_COOKIE = "csrftoken"


def http_client(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout_seconds: float = HTTP_TIMEOUT_SECONDS,
    verify: ssl.SSLContext | None = None,
) -> httpx.Client:
    """A client for one service; `auth` is sent as HTTP Basic with every request. `verify` is the
    context HTTPS verifies with (None: the default trust store); verification is never turned off."""
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        auth=auth,
        cookies=httpx.Cookies(),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout_seconds),
        trust_env=False,
        verify=verify if verify is not None else True,
    )


def json_body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise AssertionError(f"expected JSON, got HTTP {response.status_code}: {response.text[:300]!r}") from None


def csrf_token(client: httpx.Client, page: str) -> str:
    """The CSRF token for a form on ``page``: the one the app last set in the client's cookie jar.

    The page must render the form's csrfmiddlewaretoken field (a form without
    it would fail for a browser). Django accepts the cookie's value in that
    field (django/middleware/csrf.py, _does_token_match: a 32-character secret
    is compared as is, a 64-character one is unmasked first).
    """
    assert 'name="csrfmiddlewaretoken"' in page, "the page renders no form with a CSRF token"
    token = client.cookies.get(CSRF_COOKIE) or ""
    assert len(token) >= 32, f"the app set no {CSRF_COOKIE} cookie in this client"
    return token


class _TextById(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text_by_id: dict[str, str] = {}
        self._open_id: str | None = None

    def handle_starttag(self, tag, attrs):
        self._open_id = dict(attrs).get("id")
        if self._open_id:
            self.text_by_id[self._open_id] = ""

    def handle_endtag(self, tag):
        self._open_id = None

    def handle_data(self, data):
        if self._open_id:
            self.text_by_id[self._open_id] += data


def text_by_id(html: str) -> dict[str, str]:
    """The text directly inside each element of a page that has an id."""
    parser = _TextById()
    parser.feed(html)
    parser.close()
    return parser.text_by_id
