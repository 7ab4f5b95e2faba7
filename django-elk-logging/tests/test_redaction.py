"""redaction.py on its own: which query parameters and path segments are secrets, written out literally, and
hostile text (bad escapes, separators, huge, control and bidi characters) that must neither raise nor slip by."""

import re
import time

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_elk_logging.redaction import (
    DEFAULT_PARAMETERS,
    Redactor,
    is_secret_header,
    parameter_names,
    path_patterns,
)

REDACTOR = Redactor()


@pytest.mark.parametrize(("url", "expected"), [
    ("/accounts/login/?username=alice&password=hunter2", "/accounts/login/?username=alice&password=[REDACTED]"),
    ("/cb?code=abc&state=xyz", "/cb?code=[REDACTED]&state=xyz"),
    ("/api?api_key=k1&apikey=k2&key=k3&sig=s&signature=s2", "/api?api_key=[REDACTED]&apikey=[REDACTED]&key=[REDACTED]"
     "&sig=[REDACTED]&signature=[REDACTED]"),
    ("/x?access_token=a&refresh_token=b&id_token=c&auth=d&session=e&sessionid=f&csrf=g&csrfmiddlewaretoken=h",
     "/x?access_token=[REDACTED]&refresh_token=[REDACTED]&id_token=[REDACTED]&auth=[REDACTED]&session=[REDACTED]"
     "&sessionid=[REDACTED]&csrf=[REDACTED]&csrfmiddlewaretoken=[REDACTED]"),
    ("/x?passwd=a&pwd=b&secret=c&token=d", "/x?passwd=[REDACTED]&pwd=[REDACTED]&secret=[REDACTED]&token=[REDACTED]"),
    # The last word decides: these are secrets...
    ("/x?client_secret=a&new_password=b&x-api-key=c&accessToken=d&new_password1=e&user[password]=f",
     "/x?client_secret=[REDACTED]&new_password=[REDACTED]&x-api-key=[REDACTED]&accessToken=[REDACTED]"
     "&new_password1=[REDACTED]&user[password]=[REDACTED]"),
    # ...these are not.
    ("/search?keyword=rust&postcode=75001&token_type=bearer&next=/home", None),
    # Percent-encoded and mixed-case names.
    ("/x?pass%77ord=a&PassWord=b&TOKEN=c&%70wd=d&x%2Dapi%2Dkey=e",
     "/x?pass%77ord=[REDACTED]&PassWord=[REDACTED]&TOKEN=[REDACTED]&%70wd=[REDACTED]&x%2Dapi%2Dkey=[REDACTED]"),
    # ";" separates too; empty pieces, a name without "=", an empty value and bad escapes stay as they are.
    ("/x?a=1;token=t&&;password&pwd=&%zz=%zz&password=%zz%", "/x?a=1;token=[REDACTED]&&;password&pwd=&%zz=%zz"
     "&password=[REDACTED]"),
    # A "?" inside a value, and a value that decodes to a URL holding a secret, are redacted whole.
    ("/login?next=/app?token=abc&x=1", "/login?next=[REDACTED]&x=1"),
    ("/login?next=%2Freset%2FMQ%2Fabc-123%2F&lang=fr", "/login?next=[REDACTED]&lang=fr"),
    ("/login?next=%2Fapp%3Fpage%3D2", None),
    # Django's password reset, under any prefix, with and without the trailing slash; its redirect target kept.
    ("/reset/MQ/c4p5zs-0123456789abcdef/", "/reset/MQ/[REDACTED]/"),
    ("/en/accounts/reset/MQ/c4p5zs-0123456789abcdef", "/en/accounts/reset/MQ/[REDACTED]"),
    ("/reset/MQ/set-password/", None),
    ("/reset/done/", None),
    # A route's placeholders (a Sentry transaction's name) are no secret.
    ("/reset/{uidb64}/{token}/", None), ("/reset/<uidb64>/<str:token>/", None),
    # Django decodes %2F and any escape in PATH_INFO before it resolves: so does the redaction.
    ("/%72eset/MQ/tok/", "/%72eset/MQ/[REDACTED]/"),
    ("/reset%2FMQ%2Ftok/", "/reset%2FMQ%2F[REDACTED]/"),
    # django-allauth: the reset key after its uidb36, the e-mail confirmation key; their other pages kept.
    ("/accounts/password/reset/key/1a-5f4dcc3b5aa765d61d8327deb882cf99/",
     "/accounts/password/reset/key/1a-[REDACTED]/"),
    ("/accounts/password/reset/key/1a-set-password/", None),
    ("/accounts/password/reset/key/done/", None),
    ("/accounts/password/reset/key/not%20a%20key/", "/accounts/password/reset/key/[REDACTED]/"),
    ("/accounts/confirm-email/MQ:1tYhNw:abc/", "/accounts/confirm-email/[REDACTED]/"),
    ("/accounts/confirm-email/", None),
    # Full URLs (a Referer) and absolute-form targets: credentials in the authority, the fragment too.
    ("https://alice:pw@shop.example:8443/reset/MQ/tok/?sig=1#access_token=AT&state=s",
     "https://alice:[REDACTED]@shop.example:8443/reset/MQ/[REDACTED]/?sig=[REDACTED]#access_token=[REDACTED]&state=s"),
    ("http://shop.example?token=t", "http://shop.example?token=[REDACTED]"),
    ("http://shop.example", None),
    # Neither a path nor a URL: kept.
    ("*", None), ("shop.example:443", None), ("-", None), ("", None), ("?", None), ("=", None), ("&&&", None),
])
def test_urls(url, expected):
    assert REDACTOR.url(url) == (url if expected is None else expected)


@pytest.mark.parametrize(("line", "expected"), [
    ("GET /login/?username=alice&password=hunter2 HTTP/1.1", "GET /login/?username=alice&password=[REDACTED] HTTP/1.1"),
    ("GET http://shop.example/reset/MQ/tok/ HTTP/1.0", "GET http://shop.example/reset/MQ/[REDACTED]/ HTTP/1.0"),
    ("GET /a?token=x", "GET /a?token=[REDACTED]"),
    ("/a?token=x", "/a?token=[REDACTED]"),
    ("-", "-"),
])
def test_request_lines(line, expected):
    assert REDACTOR.request_line(line) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("<WSGIRequest: GET '/reset/MQ/abc/?password=x&page=2'>", "<WSGIRequest: GET '/reset/MQ/[REDACTED]/?password=[REDACTED]&page=2'>"),
    ("Not Found: /reset/MQ/abc-123/", "Not Found: /reset/MQ/[REDACTED]/"),
    ('{"next": "next=/x&password=y"} done', '{"next": "next=/x&password=[REDACTED]"} done'),
    ("Nothing to see: 3/4 of a=b", "Nothing to see: 3/4 of a=b"),
])
def test_free_text(text, expected):
    assert REDACTOR.text(text) == expected


def test_control_and_bidi_characters_in_a_value_are_redacted_with_it_and_elsewhere_left_to_the_escaping():
    hostile = "/x?password=a\r\nINFO forged\u202e&note=b\u202ec\r\n"
    assert REDACTOR.url(hostile) == "/x?password=[REDACTED]&note=b\u202ec\r\n"


def test_a_huge_query_is_redacted_in_linear_time():
    def seconds(parameters: int) -> float:
        query = "/x?" + "&".join(f"pass%77ord{i}=v{i}&page=%zz" for i in range(parameters))
        started = time.perf_counter()
        redacted = REDACTOR.url(query)
        assert "v7" not in redacted and redacted.count("[REDACTED]") == parameters
        return time.perf_counter() - started

    small, large = seconds(20_000), seconds(160_000)
    assert large < 8 * small * 2.5, (small, large)


def test_a_huge_name_a_deep_path_and_a_long_word_do_not_blow_up():
    assert REDACTOR.url("/x?" + "a" * 500_000 + "_token=" + "v") == "/x?" + "a" * 500_000 + "_token=[REDACTED]"
    assert REDACTOR.url("/" * 300_000 + "reset/MQ/t") == "/" * 300_000 + "reset/MQ/[REDACTED]"
    assert REDACTOR.text("x" * 1_000_000) == "x" * 1_000_000


def test_one_time_login_tokens_are_secret_by_default():
    # django-sesame's login links, a CAS service ticket, a one-time password, a nonce.
    assert Redactor().url("/login?sesame=AAAA&ticket=ST-1&otp=123456&nonce=n1&next=/") == (
        "/login?sesame=[REDACTED]&ticket=[REDACTED]&otp=[REDACTED]&nonce=[REDACTED]&next=/")


def test_configured_parameters_and_paths():
    redactor = Redactor(DEFAULT_PARAMETERS | parameter_names(["Voucher"]),
                        path_patterns([r"/invite/([^/]+)/", re.compile(r"/files/(\w+)/(\w+)$")]))

    assert redactor.url("/x?voucher=t&gift_voucher=u&page=1") == "/x?voucher=[REDACTED]&gift_voucher=[REDACTED]&page=1"
    assert redactor.url("/invite/abc/accept/invite/def/") == "/invite/[REDACTED]/accept/invite/[REDACTED]/"
    assert redactor.url("/files/owner/secret?token=1") == "/files/[REDACTED]/[REDACTED]?token=[REDACTED]"


@pytest.mark.parametrize(("setting", "message"), [
    ("password", "must be a list of parameter names, not 'password'"),
    (["ok", ""], "must be a list of parameter names; '' is not one"),
    ([b"bytes"], "must be a list of parameter names; b'bytes' is not one"),
])
def test_bad_parameter_settings(setting, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parameter_names(setting)


@pytest.mark.parametrize(("setting", "message"), [
    (r"/invite/([^/]+)/", r"must be a list of regular expressions, not '/invite/([^/]+)/'"),
    ([r"/invite/([^/]+/"], "entry '/invite/([^/]+/' is not a regular expression: missing ), unterminated subpattern"),
    ([r"/invite/[^/]+/"], "entry '/invite/[^/]+/' captures no group: put the secret part in parentheses"),
    ([42], "entry 42 is not a regular expression: first argument must be string or compiled pattern"),
    ([re.compile(rb"/invite/([^/]+)")], r"entry re.compile(b'/invite/([^/]+)') is a bytes pattern: paths are text"),
])
def test_bad_path_settings(setting, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        path_patterns(setting)


@pytest.mark.parametrize(("name", "secret"), [
    ("X-Csrftoken", True), ("Authorization", True), ("Cookie", True), ("X-Api-Key", True), ("X-Auth-Token", True),
    ("X-Session-Id", True), ("X-Hub-Signature-256", True), ("Proxy-Authorization", True), ("X-Password", True),
    ("User-Agent", False), ("Referer", False), ("Accept-Language", False), ("Keep-Alive", False),
])
def test_secret_headers(name, secret):
    assert is_secret_header(name) is secret


# Text a client may send: URL punctuation, escapes good and bad, controls, bidi, non-ASCII.
HOSTILE_TEXT = st.text(alphabet=st.sampled_from(list("/?#&;=%:@+ ab2FZ-_.[]\r\n\x00\u202e\u2028é")), max_size=60)


@hypothesis_settings(max_examples=400, deadline=None)
@given(HOSTILE_TEXT)
def test_any_text_is_redacted_without_raising_and_a_second_time_changes_nothing(text):
    for redact in (REDACTOR.url, REDACTOR.request_line, REDACTOR.query, REDACTOR.text):
        once = redact(text)
        assert redact(once) == once


@hypothesis_settings(max_examples=300, deadline=None)
@given(before=HOSTILE_TEXT, name=st.sampled_from(["password", "PASS%77ORD", "client_secret", "x-api-key", "sig"]),
       secret=st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ", min_size=12, max_size=20), after=HOSTILE_TEXT)
def test_a_secret_parameter_in_any_query_loses_its_value(before, name, secret, after):
    query = f"{before.replace('#', '')}&{name}={secret}&{after}"
    assert secret not in REDACTOR.url("/p?" + query)
    assert secret not in REDACTOR.request_line(f"GET /p?{query} HTTP/1.1")
