"""X-Forwarded-For through real servers (gunicorn's WSGI worker, uvicorn with AccessLogMiddleware) in front of the
package's test project: believed only from TRUSTED_PROXIES, in the security records, BLOCKED_IPS and the access
line's first field, with the peer in a field of its own; the request id always the server's; health probes quiet
only from their network.

127.0.0.1 is the trusted proxy (the clients connect from it), 127.0.0.2 an untrusted client, 127.0.0.3 a blocked
one; 10.0.0.0/8 stands for the proxies in front of 127.0.0.1.
"""

import re
import subprocess
import sys

import pytest

from servers import PROBED_GUNICORN_CONFIG, environment, free_port, request, serving
from test_request_events import ORIGIN, RECORD_ID, REQUEST_ID, TIMESTAMP

PROXY, UNTRUSTED, BLOCKED = "127.0.0.1", "127.0.0.2", "127.0.0.3"
SETTINGS = {"PACKAGE_TESTS_TRUSTED_PROXIES": f"{PROXY}/32,10.0.0.0/8", "PACKAGE_TESTS_TRUSTED_PROXY_COUNT": "2",
            "PACKAGE_TESTS_BLOCKED_IPS": f"203.0.113.0/24,{BLOCKED}", "DJANGO_SETTINGS_MODULE": "settings_for_tests"}
HUGE = "1.1.1.1, " * 800 + "198.51.100.50"  # 7 KB: within gunicorn's limit_request_field_size (8190)

# name: (source, X-Forwarded-For, client the logs must record, BLOCKED_IPS entry that refuses it or None)
CASES = {
    "trusted": (PROXY, "198.51.100.20", "198.51.100.20", None),
    "forged": (UNTRUSTED, "198.51.100.21", UNTRUSTED, None),
    "forged-blocked-victim": (UNTRUSTED, "203.0.113.9", UNTRUSTED, None),  # nobody gets a victim blocked
    "blocked-hiding": (BLOCKED, "198.51.100.22", BLOCKED, f"{BLOCKED}/32"),  # nor hides behind a header
    "trusted-blocked": (PROXY, "203.0.113.9", "203.0.113.9", "203.0.113.0/24"),
    "chain": (PROXY, "6.6.6.6, 198.51.100.30, 10.1.2.3", "198.51.100.30", None),
    "not-an-ip": (PROXY, "198.51.100.40, unknown", PROXY, None),
    "huge": (PROXY, HUGE, "198.51.100.50", None),
    "bidi": (PROXY, "198.51.100.60\u202e", PROXY, None),
}

ACCESS_LINE = re.compile(
    r'(?P<client>\S+) - - \[[^\]]+\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+) "[^"]*" "(?P<agent>[^"]*)" '
    r'\d+ (?P<request_id>\S+) [0-9a-f]{16} (?P<peer>\S+)'
    r' (?P<pid>[0-9]+) (?P<host>\S+) (?P<service>\S+) (?P<service_version>\S+) (?P<environment>\S+)'
)

PROBED_ASGI = """
import os

from django.core.asgi import get_asgi_application
from django_elk_logging.asgi import AccessLogMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_for_tests")
application = AccessLogMiddleware(get_asgi_application(), skipped_paths={"/healthz"}, probe_networks=["127.0.0.1/32"])
"""


def send_cases(port: int) -> dict[str, tuple[int, str]]:
    """Each case's status and the X-Request-ID the server answered, then the health probes."""
    answers = {}
    for name, (source, forwarded_for, _, _) in CASES.items():
        headers = {"X-Forwarded-For": forwarded_for, "X-Request-ID": f"client-id-{name}", "User-Agent": f"proxied/{name}"}
        status, answer, _ = request(port, "GET", f"/probe?tag={name}", headers, source=source)
        answers[name] = (status, answer["X-Request-ID"])
    request(port, "GET", "/healthz", {"User-Agent": "probe-loopback"}, source=PROXY)
    request(port, "GET", "/healthz", {"User-Agent": "probe-elsewhere"}, source=UNTRUSTED)
    request(port, "GET", "/healthz", {"User-Agent": "probe-forged", "X-Forwarded-For": PROXY}, source=UNTRUSTED)
    return answers


@pytest.fixture(scope="module", params=["gunicorn", "uvicorn"])
def run(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(request.param)
    port, log_dir = free_port(), workdir / "logs"
    if request.param == "gunicorn":
        (workdir / "gunicorn.conf.py").write_text(PROBED_GUNICORN_CONFIG.format(port=port, log_dir=str(log_dir)))
        command = ["gunicorn", "--config", str(workdir / "gunicorn.conf.py"), "django.core.wsgi:get_wsgi_application()"]
    else:
        (workdir / "probed_asgi.py").write_text(PROBED_ASGI)
        command = ["uvicorn", "probed_asgi:application", "--host", "127.0.0.1", "--port", str(port),
                   "--no-proxy-headers", "--no-access-log"]
    with serving(command, port, environment(workdir, log_dir=log_dir, **SETTINGS), workdir):
        answers = send_cases(port)
    return answers, (log_dir / "security.log").read_text(encoding="utf-8").splitlines(), [
        ACCESS_LINE.fullmatch(line) or line for line in (log_dir / "access.log").read_text(encoding="utf-8").splitlines()]


def test_each_security_record_has_the_resolved_client_and_the_peer(run):
    answers, security, _ = run
    assert len(security) == len(CASES), security
    for name, (source, _, client, blocked_by) in CASES.items():
        status, request_id = answers[name]
        assert status == (403 if blocked_by else 200), name
        context = (rf"client_ip={re.escape(client)} peer_ip={re.escape(source)} client_request_id=client-id-{name} "
                   rf"path=/probe user_agent=proxied/{name}")
        if blocked_by:
            expected = (rf"WARNING {TIMESTAMP} ip_blocking \[request_id={request_id} record_id={RECORD_ID} event=blocked_ip "
                        rf"{context}{ORIGIN}\] Refused a request from blocked address {re.escape(client)} "
                        rf"\(BLOCKED_IPS entry {re.escape(blocked_by)}\)")
        else:
            expected = (rf"WARNING {TIMESTAMP} urls_for_tests \[request_id={request_id} record_id={RECORD_ID} "
                        rf"event=security_event {context}{ORIGIN}\] probe {name}")
        [line] = [line for line in security if f"client_request_id=client-id-{name} " in line]
        assert re.fullmatch(expected, line), line


def test_the_access_line_has_the_resolved_client_first_and_the_peer_last(run):
    answers, _, access = run
    probes = [line for line in access if isinstance(line, re.Match) and line["request"].startswith("GET /probe?")]
    assert len(probes) == len(CASES) == len(access) - 2, access
    by_token = {line["request"].split("tag=")[1].split(" ")[0]: line for line in probes}
    for name, (source, _, client, blocked_by) in CASES.items():
        line = by_token[name]
        assert (line["client"], line["peer"], line["status"]) == (client, source, "403" if blocked_by else "200")
        assert line["request_id"] == answers[name][1]


def test_the_request_id_is_always_the_servers_own(run):
    answers, security, access = run
    assert all(re.fullmatch(REQUEST_ID, request_id) for _, request_id in answers.values()), answers
    assert len({request_id for _, request_id in answers.values()}) == len(CASES)
    assert not [line for line in security if "[request_id=client-id" in line]
    assert not [line for line in access if isinstance(line, re.Match) and "client-id" in line["request_id"]]


def test_a_health_probe_is_quiet_only_from_the_probe_network(run):
    _, _, access = run
    health = [line for line in access if isinstance(line, re.Match) and line["request"] == "GET /healthz HTTP/1.1"]
    # From 127.0.0.1: skipped. From 127.0.0.2, with or without a header naming 127.0.0.1: logged.
    assert [(line["agent"], line["peer"], line["status"]) for line in health] == [
        ("probe-elsewhere", UNTRUSTED, "200"), ("probe-forged", UNTRUSTED, "200")]


def test_gunicorn_refuses_to_start_with_a_proxy_count_and_no_proxies(tmp_path):
    # gunicorn runs no system checks: the WSGI handler builds RequestIdMiddleware as the worker loads the app.
    port = free_port()
    (tmp_path / "gunicorn.conf.py").write_text(PROBED_GUNICORN_CONFIG.format(port=port, log_dir=str(tmp_path / "logs")))
    env = environment(log_dir=tmp_path / "logs", DJANGO_SETTINGS_MODULE="settings_for_tests",
                      PACKAGE_TESTS_TRUSTED_PROXY_COUNT="1")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", str(tmp_path / "gunicorn.conf.py"),
         "django.core.wsgi:get_wsgi_application()"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert ("ImproperlyConfigured: TRUSTED_PROXY_COUNT is 1 but TRUSTED_PROXIES is empty: X-Forwarded-For is believed "
            "only from a trusted proxy's address") in result.stdout + result.stderr
