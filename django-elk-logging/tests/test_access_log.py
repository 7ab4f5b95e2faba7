"""AccessLogger in real gunicorn (a bare WSGI app, no Django), configured with the two lines the README shows:
one escaped line per request in the package's format, no credentials."""

import http.client
import re
import socket

import pytest

from servers import PROBED_GUNICORN_CONFIG, environment, free_port, request, serving, serving_on_socket
from wsgi_for_tests import APP_REQUEST_ID

ACCESS_LINE = re.compile(
    r'(?P<client>\S+) - - \[[^\]]+\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referrer>[^"]*)" "(?P<agent>[^"]*)" (?P<duration_ns>\d+) (?P<request_id>\S+) (?P<record_id>[0-9a-f]{16}) '
    r'(?P<peer>\S+)'
    r' (?P<pid>[0-9]+) (?P<host>\S+) (?P<service>\S+) (?P<service_version>\S+) (?P<environment>\S+)'
)


@pytest.fixture(scope="module")
def access_lines(tmp_path_factory) -> list[str]:
    workdir = tmp_path_factory.mktemp("access")
    port = free_port()
    (workdir / "gunicorn.conf.py").write_text(PROBED_GUNICORN_CONFIG.format(port=port, log_dir=str(workdir)))
    command = ["gunicorn", "--config", str(workdir / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    with serving(command, port, environment(), workdir):  # this gunicorn writes where its config says
        request(port, "GET", "/", {"User-Agent": 'agent "quoted" \\ end', "Referer": 'http://x/"a"'})
        request(port, "GET", "/private", {"Authorization": "Basic YWxpY2U6czNjcjN0", "Cookie": "sessionid=SESSIONSECRET"})
        request(port, "GET", "/caf%C3%A9", {"User-Agent": "agent-\u00e9\u2028end"})
        request(port, "GET", "/healthz", {})  # a probe from its network: not logged
        request(port, "GET", "/healthz", {"User-Agent": "not-a-probe"}, source="127.0.0.2")  # from elsewhere: logged
    return (workdir / "access.log").read_text(encoding="utf-8").splitlines()


def parse(line: str) -> re.Match:
    match = ACCESS_LINE.fullmatch(line)
    assert match, f"not a well-formed access line: {line!r}"
    return match


def test_one_line_per_request_but_a_successful_health_probe_from_the_probe_network(access_lines):
    assert [parse(line)["request"] for line in access_lines] == [
        "GET / HTTP/1.1", "GET /private HTTP/1.1", "GET /caf%C3%A9 HTTP/1.1", "GET /healthz HTTP/1.1",
    ]
    assert {parse(line)["request_id"] for line in access_lines} == {APP_REQUEST_ID}
    assert all(int(parse(line)["duration_ns"]) > 0 for line in access_lines)
    assert len({parse(line)["record_id"] for line in access_lines}) == 4


def test_without_the_app_resolving_a_client_both_address_fields_are_the_peer(access_lines):
    # This bare WSGI app leaves no resolved client in the environ: the first field falls back to the peer.
    assert [(parse(line)["client"], parse(line)["peer"]) for line in access_lines] == [
        ("127.0.0.1", "127.0.0.1")] * 3 + [("127.0.0.2", "127.0.0.2")]
    assert parse(access_lines[3])["agent"] == "not-a-probe"


def test_quotes_and_backslashes_are_escaped_so_fields_stay_apart(access_lines):
    first = parse(access_lines[0])

    assert first["agent"] == r"agent \x22quoted\x22 \\ end"
    assert first["referrer"] == r"http://x/\x22a\x22"


def test_credentials_never_reach_the_line(access_lines):
    text = "\n".join(access_lines)

    assert "alice" not in text and "YWxpY2U6czNjcjN0" not in text and "SESSIONSECRET" not in text


def test_a_line_separator_in_a_header_cannot_break_the_line(access_lines):
    # WSGI hands header bytes over as latin-1 text: U+2028's UTF-8 bytes hold the C1 control \x80.
    assert parse(access_lines[2])["agent"] == "agent-\u00c3\u00a9\u00e2\\x80\u00a8end"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def test_on_a_unix_socket_the_client_is_a_dash_and_the_line_keeps_its_shape(tmp_path):
    # gunicorn gives REMOTE_ADDR "" on a Unix socket (gunicorn/http/wsgi.py): the field must not vanish.
    sock = tmp_path / "gunicorn.sock"
    config = PROBED_GUNICORN_CONFIG.format(port=0, log_dir=str(tmp_path)).replace('"127.0.0.1:0"', f'"unix:{sock}"')
    (tmp_path / "gunicorn.conf.py").write_text(config)
    command = ["gunicorn", "--config", str(tmp_path / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    with serving_on_socket(command, sock, environment(), tmp_path):
        connection = UnixHTTPConnection(str(sock))
        connection.request("GET", "/over-a-socket")
        assert connection.getresponse().status == 200
        connection.close()

    [line] = (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()
    assert line.startswith("- - - [") and line.endswith(" -") and parse(line.replace("- - - [", "127.0.0.1 - - [", 1))["request"] == (
        "GET /over-a-socket HTTP/1.1")


# The access line before issue 20 (the peer last): the format's fields up to the peer, in the same places.
OLD_ACCESS_LINE = re.compile(ACCESS_LINE.pattern.split(r" (?P<pid>")[0])


def test_forked_workers_write_their_own_pid_and_the_identity_after_the_peer(tmp_path):
    port = free_port()
    config = PROBED_GUNICORN_CONFIG.format(port=port, log_dir=str(tmp_path)).replace("workers = 1", "workers = 2")
    (tmp_path / "gunicorn.conf.py").write_text(config)
    command = ["gunicorn", "--config", str(tmp_path / "gunicorn.conf.py"), "wsgi_for_tests:application"]
    # A bare WSGI app loads no Django: the service is DJANGO_SETTINGS_MODULE's first component (identity.py).
    with serving(command, port, environment(DJANGO_SETTINGS_MODULE="shop.settings"), tmp_path):
        served = {f"/r{number}": request(port, "GET", f"/r{number}")[1]["X-Worker-Pid"] for number in range(12)}

    lines = [parse(line) for line in (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()]
    assert {line["request"].split()[1]: line["pid"] for line in lines} == served
    assert {(line["host"], line["service"], line["service_version"], line["environment"]) for line in lines} == {
        (socket.gethostname(), "shop", "-", "-")}


def test_a_reader_of_the_old_line_still_finds_its_fields_in_their_places(access_lines):
    for line in access_lines:
        old, new = OLD_ACCESS_LINE.match(line), parse(line)
        assert old and old.groupdict() == {key: new[key] for key in old.groupdict()}, line
        # What follows the old line: five words, the new fields.
        assert line[old.end():] == " " + " ".join(new[key] for key in ("pid", "host", "service", "service_version",
                                                                        "environment"))
