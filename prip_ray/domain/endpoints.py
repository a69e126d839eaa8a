"""Which addresses a subscription's NotificationEndpoint may reach.

The notifier POSTs from inside the operator's network to a URL any subscriber chooses: left
unchecked, that URL could be the cloud metadata service (169.254.169.254), the PRIP DB, an
admin port on loopback. Only globally routable unicast addresses are allowed, plus the
networks the operator lists (``subscriptions.allowed_networks``: an on-site subscriber, the
tests' loopback receiver). An IPv6 address that embeds an IPv4 one (``::ffff:10.0.0.1``,
NAT64's ``64:ff9b::/96``, 6to4's ``2002::/16``) is judged by the IPv4 address it reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
NAT64 = ip_network("64:ff9b::/96")


class EndpointPolicy:
    def __init__(self, allowed_networks: Sequence[str] = ()):
        """``allowed_networks``: CIDRs (or single addresses); ValueError names a bad one."""
        self._allowed: list[IPv4Network | IPv6Network] = []
        for network in allowed_networks:
            try:
                self._allowed.append(ip_network(network, strict=False))
            except ValueError:
                raise ValueError(f"{network!r} is not an IP network (CIDR)") from None

    def allows(self, address: str) -> bool:
        """True if the notifier may connect to ``address`` (an IP address as text)."""
        try:
            found = reached(ip_address(address))
        except ValueError:
            return False  # not an address at all: never connect to it
        return is_public(found) or any(found in network for network in self._allowed)


def reached(address: IPAddress) -> IPAddress:
    """The address a packet to ``address`` ends up at, as far as the address itself says."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, multicast, unspecified,
    reserved, shared (100.64/10) or documentation space."""
    # is_global alone lets multicast through, and it is the sum of lists that changed
    # between Python releases: every class is named here as well.
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (isinstance(address, IPv6Address) and address.is_site_local)
    )
