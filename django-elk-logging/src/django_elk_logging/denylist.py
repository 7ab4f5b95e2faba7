"""Parsing and matching of IP addresses and CIDR networks (standard library only): addresses to refuse, proxies to trust.

The settings parse their environment variables with it at start; the middleware (ip_blocking.py) matches
each request's client address against the result, and proxies.py each proxy's.
"""

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries) -> tuple[Network, ...]:
    """Each entry as a network (an address is its /32 or /128); ValueError names the first bad entry.

    Strict: "10.0.0.1/24" (host bits set) is refused rather than silently widened or narrowed.
    """
    if isinstance(entries, str):
        raise ValueError(f"must be a list of addresses or networks, not the string {entries!r}")
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip()))
        except ValueError as error:
            raise ValueError(f"entry {entry!r} is not an IP address or CIDR network: {error}") from None
    return tuple(networks)


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (an IPv4-mapped IPv6 one as its IPv4 address), or None: any other text, and
    a zone-scoped IPv6 address, whose zone (``fe80::1%eth0``) may hold any character."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 6:
        if ip.scope_id is not None:
            return None
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
    return ip


def network_holding(ip: IPAddress, networks: tuple[Network, ...]) -> Network | None:
    # An IPv4 address is in no IPv6 network and the reverse (no error): ipaddress compares versions.
    return next((network for network in networks if ip in network), None)


def blocking_network(address: str, networks: tuple[Network, ...]) -> Network | None:
    """The first network that holds ``address`` (an IPv4-mapped IPv6 address counts as its IPv4 one)."""
    ip = parse_address(address)
    return None if ip is None else network_holding(ip, networks)
