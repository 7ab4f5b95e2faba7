"""Client addresses to refuse: parsing and matching of IP addresses and CIDR networks (standard library only).

The settings parse their environment variable with it at start, and the middleware
(ip_blocking.py) matches each request's client address against the result.
"""

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def blocking_network(address: str, networks: tuple[Network, ...]) -> Network | None:
    """The first network that holds ``address`` (an IPv4-mapped IPv6 address counts as its IPv4 one)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # An IPv4 address is in no IPv6 network and the reverse (no error): ipaddress compares versions.
    return next((network for network in networks if ip in network), None)
