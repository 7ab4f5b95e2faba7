"""gunicorn's access log: one parsable line per request, escaped, without credentials; the client resolved
through the trusted proxies first, the peer last; health probes quiet only from their network."""

import http.client
import re
from urllib.parse import urlsplit

import pytest

from tests.support.app_server import running_app

ACCESS_LINE = re.compile(
    r'(?P<ip>\S+) - - \[[^\]]+\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referrer>[^"]*)" "(?P<agent>[^"]*)" (?P<duration_ns>\d+) (?P<request_id>\S+) (?P<record_id>[0-9a-f]{16}) '
    r'(?P<peer>\S+) (?P<pid>[0-9]+) (?P<host>\S+) (?P<service>\S+) (?P<service_version>\S+) (?P<environment>\S+)'
)
PROXY, UNTRUSTED = "127.0.0.1", "127.0.0.2"  # the trusted proxy and a client that is none


def send(base_url: str, path: str, headers: dict[str, str], source: str | None = None) -> http.client.HTTPResponse:
    """One GET, from the loopback address ``source`` if given."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10,
                                            source_address=(source, 0) if source else None)
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
    assert (line_of(access_lines, "credentials")["ip"], line_of(access_lines, "credentials")["peer"]) == (
        "127.0.0.1", "127.0.0.1")


def test_non_ascii_and_line_separators_cannot_break_the_line(access_lines):
    line = line_of(access_lines, "unicode")

    assert line["request"] == r"GET /caf%C3%A9?q=%22x%22 HTTP/1.1"
    # WSGI hands header bytes over as latin-1 text: U+2028's UTF-8 bytes hold the C1 control \x80.
    assert line["agent"] == "agent-\u00c3\u00a9\u00e2\\x80\u00a8end"


def test_the_access_line_carries_the_apps_request_id_not_a_malformed_one_from_the_client(access_lines):
    line = line_of(access_lines, "forged_id")

    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert "not valid" not in line[0]


@pytest.fixture(scope="module")
def behind_a_proxy(tmp_path_factory):
    """The app with 127.0.0.1 as its trusted proxy and health probes quiet only from it: the access lines and
    the security lines, and each request's answer."""
    overrides = {"DJANGO_TRUSTED_PROXIES": f"{PROXY}/32", "DJANGO_TRUSTED_PROXY_COUNT": "1",
                 "DJANGO_BLOCKED_IPS": "203.0.113.0/24", "GUNICORN_HEALTH_PROBE_NETWORKS": f"{PROXY}/32"}
    # Each request sends a malformed X-Request-ID too: the security event it makes shows the client resolved.
    cases = {
        "proxied": (PROXY, {"X-Forwarded-For": "198.51.100.7"}),
        "forged": (UNTRUSTED, {"X-Forwarded-For": "198.51.100.8"}),
        "forged-blocked": (UNTRUSTED, {"X-Forwarded-For": "203.0.113.5"}),
        "proxied-blocked": (PROXY, {"X-Forwarded-For": "203.0.113.5"}),
    }
    with running_app(tmp_path_factory.mktemp("proxied"), **overrides) as app:
        responses = {name: send(app.base_url, "/", {**headers, "X-Request-ID": f"bad id {name}",
                                                    "User-Agent": f"agent/{name}"}, source)
                     for name, (source, headers) in cases.items()}
        responses["probe"] = send(app.base_url, "/healthz", {"User-Agent": "probe/proxy"}, PROXY)
        responses["probe elsewhere"] = send(app.base_url, "/healthz", {"User-Agent": "probe/elsewhere"}, UNTRUSTED)
    access = [parse(line) for line in (app.log_dir / "access.log").read_text(encoding="utf-8").splitlines()]
    security = (app.log_dir / "security.log").read_text(encoding="utf-8").splitlines()
    return responses, access, security


@pytest.mark.parametrize(
    "name, client, peer, status",
    [
        ("proxied", "198.51.100.7", PROXY, 200),
        ("forged", UNTRUSTED, UNTRUSTED, 200),
        ("forged-blocked", UNTRUSTED, UNTRUSTED, 200),  # a forged header neither blocks a victim...
        ("proxied-blocked", "203.0.113.5", PROXY, 403),  # ...nor hides a client its proxy reported
    ],
)
def test_the_line_starts_with_the_client_the_trusted_proxy_reported_and_ends_with_the_peer(
        behind_a_proxy, name, client, peer, status):
    responses, access, _ = behind_a_proxy
    [line] = [line for line in access if line["agent"] == f"agent/{name}"]

    assert (line["ip"], line["peer"], line["status"]) == (client, peer, str(status))
    assert responses[name].status == status
    assert line["request_id"] == responses[name].getheader("X-Request-ID")


@pytest.mark.parametrize(
    "name, client, peer",
    [("proxied", "198.51.100.7", PROXY), ("forged", UNTRUSTED, UNTRUSTED), ("proxied-blocked", "203.0.113.5", PROXY)],
)
def test_security_events_carry_the_resolved_client_and_the_peer(behind_a_proxy, name, client, peer):
    responses, _, security = behind_a_proxy
    request_id = responses[name].getheader("X-Request-ID")
    mine = [line for line in security if f"[request_id={request_id} " in line]

    assert mine and all(" event=" in line for line in mine), mine
    for line in mine:
        # The malformed id is no client_request_id: the field is absent, and the client's text is in the message.
        assert f" client_ip={client} peer_ip={peer} path=/ user_agent=agent/{name} logger=security " in line, line


def test_a_health_probe_is_quiet_only_from_the_probe_network(behind_a_proxy):
    responses, access, _ = behind_a_proxy

    assert responses["probe"].status == responses["probe elsewhere"].status == 200
    assert [(line["agent"], line["peer"]) for line in access if line["request"] == "GET /healthz HTTP/1.1"] == [
        ("probe/elsewhere", UNTRUSTED)]
