"""The client behind trusted proxies (proxies.py): who may report an address, how far back, and what stops the walk."""

import time

import pytest

from django_elk_logging.denylist import parse_networks
from django_elk_logging.proxies import MAX_HOP_CHARS, resolve_client

EDGE, INNER = "10.0.0.5", "192.168.1.2"  # a front proxy and the one behind it, both trusted below
TRUSTED = parse_networks(["10.0.0.0/24", "192.168.1.2", "2001:db8::/64"])


@pytest.mark.parametrize(
    "peer, forwarded_for, count, client",
    [
        # No proxy in front: the peer, whatever the header says.
        ("198.51.100.7", "203.0.113.66", 1, "198.51.100.7"),
        ("198.51.100.7", "203.0.113.66", 0, "198.51.100.7"),
        # One trusted proxy: the entry it appended, and no further back (the rest is the client's own text).
        (INNER, "203.0.113.66", 1, "203.0.113.66"),
        (INNER, "6.6.6.6, 203.0.113.66", 1, "203.0.113.66"),
        # Two proxies, two hops: the outer proxy's entry, reported by the inner one.
        (INNER, f"6.6.6.6, 203.0.113.66, {EDGE}", 2, "203.0.113.66"),
        # Two hops allowed, but the inner proxy's entry is no proxy: that address is the client.
        (INNER, "6.6.6.6, 203.0.113.66", 2, "203.0.113.66"),
        # The count bounds the walk even through trusted addresses.
        (INNER, f"203.0.113.66, {EDGE}", 1, EDGE),
        # Fewer entries than hops: the last address believed.
        (INNER, EDGE, 3, EDGE),
        # A hop that is not an address stops the walk at the last address believed.
        (INNER, "203.0.113.66, unknown", 2, INNER),
        (INNER, f"203.0.113.66, unknown, {EDGE}", 3, EDGE),
        (INNER, "203.0.113.66:4711", 1, INNER),
        (INNER, "[2001:db8::9]:80", 1, INNER),
        (INNER, "fe80::1%eth0 forged", 1, INNER),  # a zone may hold any text: never believed
        (INNER, "", 1, INNER),
        (INNER, "203.0.113.66,,", 1, INNER),
        # Hostile text: a line break, a control, a bidi override.
        (INNER, "203.0.113.66\r\nINFO forged", 1, INNER),
        (INNER, "203.0.113.66\x00", 1, INNER),
        (INNER, "\u202e203.0.113.66", 1, INNER),
        # Spaces and tabs around entries, IPv6 and an IPv4-mapped peer and entry.
        (INNER, " 203.0.113.66 ,\t10.0.0.5\t", 2, "203.0.113.66"),
        ("2001:db8::5", "2001:DB8:0:1::9", 1, "2001:db8:0:1::9"),
        ("::ffff:192.168.1.2", "::ffff:203.0.113.66", 1, "203.0.113.66"),
        # No list: no hop, whatever the count.
        ("", "203.0.113.66", 1, ""),  # a Unix socket's peer is unknown, and no proxy
    ],
)
def test_the_client_is_what_the_trusted_proxies_reported(peer, forwarded_for, count, client):
    assert resolve_client(peer, forwarded_for, TRUSTED, count) == client


def test_without_trusted_proxies_the_header_is_never_believed():
    assert resolve_client(INNER, "203.0.113.66", (), 5) == INNER


def test_a_huge_header_costs_only_its_last_hops():
    # 2 MB of addresses ahead of the hops that count: only the tail is read, the rest never split or parsed.
    huge = "1.1.1.1, " * 250_000 + f"203.0.113.66, {EDGE}"

    started = time.perf_counter()
    for _ in range(1000):
        found = resolve_client(INNER, huge, TRUSTED, 2)
    elapsed = time.perf_counter() - started

    assert found == "203.0.113.66"
    assert elapsed < 1.0, f"1000 resolutions of a 2 MB header took {elapsed:.2f} s: the whole header is read"


def test_an_entry_cut_by_the_bound_is_never_read_as_a_shorter_address():
    # Padded so the bound (two hops' worth of text) starts two characters into "211.2.3.4": what is left
    # of it, "1.2.3.4", must not be believed.
    last = f", {EDGE}"
    padded = "211.2.3.4" + " " * (2 * (MAX_HOP_CHARS + 1) + 2 - len("211.2.3.4") - len(last)) + last

    assert resolve_client(INNER, padded, TRUSTED, 2) == EDGE
