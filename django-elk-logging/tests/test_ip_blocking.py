"""The denylist (denylist.py) and its middleware (ip_blocking.py) in the package's minimal project."""

import ipaddress
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from django_elk_logging.denylist import blocking_network, parse_networks
from test_request_events import ORIGIN, RECORD_ID, REQUEST_ID, TIMESTAMP, Tail

pytestmark = pytest.mark.django_db


@pytest.fixture
def tail() -> Tail:
    return Tail()


def refusal(address: str, entry: str, path: str = "/", user_agent: str = "pytest-agent", peer: str = "") -> re.Pattern:
    """The refusal of ``address``, which connected from ``peer`` (itself when not given)."""
    return re.compile(
        rf"WARNING {TIMESTAMP} ip_blocking \[request_id={REQUEST_ID} record_id={RECORD_ID} event=blocked_ip"
        rf" client_ip={re.escape(address)} peer_ip={re.escape(peer or address)} path={re.escape(path)}"
        rf" user_agent={re.escape(user_agent)}{ORIGIN}\]"
        rf" Refused a request from blocked address {re.escape(address)} \(BLOCKED_IPS entry {re.escape(entry)}\)"
    )


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([], ()),
        (["203.0.113.7"], ("203.0.113.7/32",)),
        ([" 198.51.100.0/24 ", "2001:db8::/32", "::1"], ("198.51.100.0/24", "2001:db8::/32", "::1/128")),
    ],
)
def test_entries_become_networks(entries, expected):
    assert tuple(str(network) for network in parse_networks(entries)) == expected


@pytest.mark.parametrize(
    "entries, message",
    [
        (["203.0.113.7", "203.0.113.300"], "entry '203.0.113.300' is not an IP address or CIDR network"),
        (["10.0.0.1/24"], "entry '10.0.0.1/24' is not an IP address or CIDR network: 10.0.0.1/24 has host bits set"),
        (["example.com"], "entry 'example.com' is not an IP address or CIDR network"),
        (["10.0.0.0/33"], "entry '10.0.0.0/33' is not an IP address or CIDR network"),
        ("10.0.0.1", "must be a list of addresses or networks, not the string '10.0.0.1'"),
    ],
)
def test_a_bad_entry_is_named(entries, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_networks(entries)


@pytest.mark.parametrize(
    "address, blocked_by",
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("203.0.113.255", "203.0.113.0/24"),
        ("203.0.114.1", None),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),  # an IPv4 client on a dual-stack socket
        ("2001:db8:0:1::5", "2001:db8::/48"),
        ("2001:db9::5", None),
        ("", None),  # no address known
        ("not-an-ip", None),
    ],
)
def test_an_address_is_blocked_by_the_network_that_holds_it(address, blocked_by):
    networks = parse_networks(["198.51.100.1", "203.0.113.0/24", "2001:db8::/48"])

    found = blocking_network(address, networks)

    assert found == (ipaddress.ip_network(blocked_by) if blocked_by else None)


def test_a_blocked_address_gets_403_and_exactly_one_security_line(settings, tail):
    settings.BLOCKED_IPS = ["203.0.113.0/24"]
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="pytest-agent")

    response = client.get("/")

    assert response.status_code == 403
    assert response.content == b"Forbidden\n"
    assert re.fullmatch(REQUEST_ID, response["X-Request-ID"])
    [line] = tail.lines("security.log")
    assert refusal("203.0.113.7", "203.0.113.0/24").fullmatch(line), line
    assert f"request_id={response['X-Request-ID']} " in line
    assert tail.lines("django_debug.log") == []  # the view never ran, and Django did not log the 403 again


def test_every_refusal_is_logged_and_other_addresses_pass(settings, tail):
    settings.BLOCKED_IPS = ["203.0.113.0/24", "2001:db8::/32"]

    statuses = [
        Client(REMOTE_ADDR=address, HTTP_USER_AGENT="pytest-agent").get("/").status_code
        for address in ("203.0.113.7", "203.0.113.8", "198.51.100.1", "2001:db8::1", "203.0.113.7")
    ]

    assert statuses == [403, 403, 200, 403, 403]
    lines = tail.lines("security.log")
    expected = [("203.0.113.7", "203.0.113.0/24"), ("203.0.113.8", "203.0.113.0/24"),
                ("2001:db8::1", "2001:db8::/32"), ("203.0.113.7", "203.0.113.0/24")]
    assert len(lines) == len(expected)
    for line, (address, entry) in zip(lines, expected, strict=True):
        assert refusal(address, entry).fullmatch(line), line


@pytest.mark.parametrize(
    "trusted, proxies, remote_addr, forwarded_for, status",
    [
        ([], 0, "127.0.0.1", "203.0.113.7", 200),  # no trusted proxy: anyone can write X-Forwarded-For
        (["127.0.0.1"], 0, "127.0.0.1", "203.0.113.7", 200),  # a list, but no hop to believe
        (["127.0.0.1"], 1, "127.0.0.1", "203.0.113.7", 403),  # the proxy's entry is the client
        (["127.0.0.1"], 1, "198.51.100.9", "203.0.113.7", 200),  # the same header from a peer that is no proxy
        (["127.0.0.1"], 1, "127.0.0.1", "203.0.113.7, 198.51.100.1", 200),  # 203.0.113.7 is forged
        (["127.0.0.1", "198.51.100.0/24"], 2, "127.0.0.1", "203.0.113.7, 198.51.100.1", 403),  # two proxies
        (["127.0.0.1"], 2, "127.0.0.1", "203.0.113.7, 198.51.100.1", 200),  # 198.51.100.1 is no proxy: it is the client
        (["127.0.0.1"], 1, "::ffff:127.0.0.1", "203.0.113.7", 403),  # a dual-stack socket's IPv4 peer
        (["127.0.0.1"], 1, "127.0.0.1", "203.0.113.7\r\nINFO forged", 200),  # not an address: the proxy is the client
        (["127.0.0.1"], 1, "127.0.0.1", "198.51.100.1, " * 100_000 + "203.0.113.7", 403),  # 1.4 MB: its last hop
        (["203.0.113.7"], 1, "203.0.113.7", "198.51.100.1", 200),  # a blocked proxy address is not the client
    ],
)
def test_x_forwarded_for_counts_only_through_trusted_proxies(settings, tail, trusted, proxies, remote_addr,
                                                              forwarded_for, status):
    settings.BLOCKED_IPS = ["203.0.113.0/24"]
    settings.TRUSTED_PROXIES = trusted
    settings.TRUSTED_PROXY_COUNT = proxies
    client = Client(REMOTE_ADDR=remote_addr, HTTP_USER_AGENT="pytest-agent")

    response = client.get("/", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert response.status_code == status
    lines = tail.lines("security.log")
    if status == 403:
        [line] = lines
        assert refusal("203.0.113.7", "203.0.113.0/24", peer=remote_addr).fullmatch(line), line
    else:
        assert lines == []


def test_a_refused_request_reads_no_session_and_no_database(settings, django_assert_num_queries):
    user = get_user_model().objects.create_user("eve")
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(user)
    settings.BLOCKED_IPS = ["203.0.113.7"]
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_COOKIE=f"sessionid={client.cookies['sessionid'].value}")

    with django_assert_num_queries(0):
        assert client.get("/").status_code == 403


def test_a_bad_setting_stops_the_app_naming_the_setting_and_the_entry(settings):
    settings.BLOCKED_IPS = ["203.0.113.0/24", "203.0.113.999"]

    with pytest.raises(ImproperlyConfigured, match=re.escape("BLOCKED_IPS entry '203.0.113.999' is not an IP address")):
        Client().get("/")

