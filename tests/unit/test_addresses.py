"""The client's address behind trusted proxies."""

from __future__ import annotations

import pytest

from prip_ray.domain.addresses import TrustedProxies

PROXIES = TrustedProxies(["10.0.0.0/8", "127.0.0.1", "fd00::/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("203.0.113.9", None, "203.0.113.9"),  # no proxy
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer's header is ignored
        ("10.1.2.3", None, "10.1.2.3"),  # a trusted peer that forwards nothing
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),  # ingress -> replica
        ("10.1.2.3", "198.51.100.1, 10.4.5.6", "198.51.100.1"),  # ingress -> HAProxy -> replica
        ("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.4.5.6", "198.51.100.1"),  # client-written hop
        ("10.1.2.3", "10.9.9.9, 10.4.5.6", "10.9.9.9"),  # all trusted: the first one
        ("127.0.0.1", "2001:db8::7", "2001:db8::7"),
        ("fd00::1", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "not-an-address", "not-an-address"),
        ("10.1.2.3", " , ", "10.1.2.3"),
    ],
)
def test_client_address(peer: str, forwarded_for: str | None, client: str) -> None:
    assert PROXIES.client(peer, forwarded_for) == client


def test_nothing_is_trusted_by_default() -> None:
    assert TrustedProxies().client("127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_a_bad_network_is_refused() -> None:
    with pytest.raises(ValueError):
        TrustedProxies(["10.0.0.0/33"])
