"""gunicorn's access log: one parsable line per request, escaped, without credentials."""

import http.client
import re
from urllib.parse import urlsplit

import pytest

from tests.support.app_server import running_app

ACCESS_LINE = re.compile(
    r'(?P<ip>127\.0\.0\.1) - - \[[^\]]+\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referrer>[^"]*)" "(?P<agent>[^"]*)" (?P<duration_ns>\d+) (?P<request_id>\S+) (?P<record_id>[0-9a-f]{16})'
)


def send(base_url: str, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value.encode("utf-8"))
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture(scope="module")
def access_lines(tmp_path_factory):
    """Sends the hostile requests once, then returns the access log lines and the responses."""
    with running_app(tmp_path_factory.mktemp("access")) as app:
        responses = {
            "quotes": send(app.base_url, "/", {"User-Agent": 'Mozilla "quoted" \\ agent', "Referer": 'http://x/"a"'}),
            "credentials": send(
                app.base_url, "/", {"Authorization": "Basic YWxpY2U6czNjcjN0", "Cookie": "sessionid=SESSIONSECRET"}
            ),
            "unicode": send(app.base_url, "/caf%C3%A9?q=%22x%22", {"User-Agent": "agent-\u00e9\u2028end"}),
            "health": send(app.base_url, "/healthz", {}),
            "forged_id": send(app.base_url, "/", {"X-Request-ID": "not valid!"}),
        }
    lines = (app.log_dir / "access.log").read_text(encoding="utf-8").splitlines()
    return lines, responses


def parse(line: str) -> re.Match:
    match = ACCESS_LINE.fullmatch(line)
    assert match, f"not a well-formed access line: {line!r}"
    return match


def line_of(access_lines, name: str) -> re.Match:
    """The access line of one request, found by its id: two workers log in no set order."""
    lines, responses = access_lines
    request_id = responses[name].getheader("X-Request-ID")
    [match] = [parse(line) for line in lines if parse(line)["request_id"] == request_id]
    return match


def test_each_request_but_the_health_probe_is_one_line(access_lines):
    lines, responses = access_lines

    assert len(lines) == 4
    assert sorted(parse(line)["request_id"] for line in lines) == sorted(
        responses[name].getheader("X-Request-ID") for name in ("quotes", "credentials", "unicode", "forged_id")
    )
    assert all(int(parse(line)["duration_ns"]) > 0 for line in lines)


def test_quotes_and_backslashes_are_escaped_so_fields_stay_apart(access_lines):
    first = line_of(access_lines, "quotes")

    assert first["agent"] == r"Mozilla \x22quoted\x22 \\ agent"
    assert first["referrer"] == r"http://x/\x22a\x22"


def test_credentials_never_reach_the_access_log(access_lines):
    lines, _ = access_lines
    text = "\n".join(lines)

    assert "alice" not in text and "YWxpY2U6czNjcjN0" not in text and "SESSIONSECRET" not in text
    assert line_of(access_lines, "credentials")[0].startswith("127.0.0.1 - - [")


def test_non_ascii_and_line_separators_cannot_break_the_line(access_lines):
    line = line_of(access_lines, "unicode")

    assert line["request"] == r"GET /caf%C3%A9?q=%22x%22 HTTP/1.1"
    # WSGI hands header bytes over as latin-1 text: U+2028's UTF-8 bytes hold the C1 control \x80.
    assert line["agent"] == "agent-\u00c3\u00a9\u00e2\\x80\u00a8end"


def test_the_access_line_carries_the_apps_request_id_not_a_malformed_one_from_the_client(access_lines):
    line = line_of(access_lines, "forged_id")

    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert "not valid" not in line[0]
