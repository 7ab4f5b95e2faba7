"""The client behind trusted reverse proxies, from X-Forwarded-For (standard library only).

Each proxy appends the address that connected to it; only a trusted proxy's report is believed, so the
header is read right to left, one hop per trusted proxy, and the first address not trusted is the client.
"""

from .denylist import Network, network_holding, parse_address

# The longest address text ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 45 characters) with room for the
# spaces proxies put after the commas: at most this much of the header is read per hop, whatever its length.
MAX_HOP_CHARS = 64


def last_hops(forwarded_for: str, count: int) -> list[str]:
    """The last ``count`` entries of ``forwarded_for``, rightmost first, read from a bounded tail of it.

    An entry the tail cuts short is given as "" (not an address), so the walk stops there rather than
    believe what is left of it ("11.2.3.4" read as "1.2.3.4").
    """
    tail_chars = count * (MAX_HOP_CHARS + 1)
    tail = forwarded_for[-tail_chars:]
    entries = tail.split(",")
    if len(forwarded_for) > tail_chars:
        entries[0] = ""
    return [entry.strip(" \t") for entry in reversed(entries[-count:])]


def resolve_client(peer: str, forwarded_for: str, trusted: tuple[Network, ...], count: int) -> str:
    """The client address: ``peer`` (who connected), or what the trusted proxies before it reported.

    A hop is taken only while the address that reported it is in ``trusted``, and at most ``count`` of them;
    an entry that is not an IP address (``unknown``, an address with a port, a zone-scoped IPv6 address)
    stops the walk at the last address believed.
    """
    if not (count > 0 and trusted and forwarded_for):
        return peer
    reporter = parse_address(peer)
    client = peer
    for entry in last_hops(forwarded_for, count):
        if reporter is None or network_holding(reporter, trusted) is None:
            break
        reporter = parse_address(entry)
        if reporter is None:
            break
        client = str(reporter)
    return client
