"""Which addresses a NotificationEndpoint may reach (domain/endpoints.py)."""

import pytest

from prip_ray.domain.endpoints import EndpointPolicy

REFUSED = [
    "127.0.0.1", "127.8.9.10", "::1",  # loopback
    "10.1.2.3", "172.16.0.1", "192.168.1.1", "fc00::1", "fd12:3456::1",  # private
    "169.254.169.254", "fe80::1", "fe80::1%eth0",  # link-local: the cloud metadata service
    "224.0.0.1", "239.255.255.250", "ff02::1",  # multicast
    "0.0.0.0", "::",  # unspecified
    "240.0.0.1", "255.255.255.255", "100.64.0.1", "192.0.2.1", "2001:db8::1",  # reserved
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",  # NAT64 and 6to4 of inside addresses
    "fec0::1", "::7f00:1",  # site-local, IPv4-compatible
    "not-an-address", "",
]  # fmt: skip
ALLOWED = ["8.8.8.8", "93.184.215.14", "2001:4860:4860::8888", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_inside_addresses_are_refused(address: str) -> None:
    assert not EndpointPolicy().allows(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert EndpointPolicy().allows(address)


def test_the_networks_the_operator_lists_are_allowed_and_only_those() -> None:
    policy = EndpointPolicy(["127.0.0.0/8", "10.20.0.0/16", "fd00::/8"])
    assert policy.allows("127.0.0.1") and policy.allows("::ffff:127.0.0.1")
    assert policy.allows("10.20.3.4") and policy.allows("fd00::5")
    assert not policy.allows("10.21.0.1") and not policy.allows("169.254.169.254")


def test_a_bad_network_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not an IP network"):
        EndpointPolicy(["127.0.0.0/8", "10.0.0.0/33"])
