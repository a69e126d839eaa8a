"""The address of whoever calls the API, seen through the proxies the operator trusts.

Behind a Kubernetes ingress, a load balancer or Serve's HAProxy, the TCP peer of a replica
is a proxy, not the client; the failed-login throttle by address would count every client
together. A proxy the operator lists as trusted (``api.trusted_proxies``) is believed about
``X-Forwarded-For``: the client is the right-most address that no trusted proxy added,
since anything further left was written by the client itself and proves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

MAX_ADDRESS = 64  # a forwarded hop is only ever an address; never a long string as a key


class TrustedProxies:
    def __init__(self, networks: Sequence[str] = ()):
        self._networks: list[IPv4Network | IPv6Network] = [
            ip_network(n, strict=False) for n in networks
        ]

    def trusts(self, address: str) -> bool:
        try:
            found = ip_address(address)
        except ValueError:
            return False
        return any(found in network for network in self._networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address, given the TCP peer and the X-Forwarded-For header."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop[:MAX_ADDRESS]
        return hops[0][:MAX_ADDRESS] if hops else peer
