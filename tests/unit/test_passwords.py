import pytest

from prip_ray.config import load_settings
from prip_ray.domain.passwords import hash_password, needs_rehash, verify_password
from prip_ray.errors import ConfigurationError

CHEAP = 2**10  # these tests are about the format, not the cost


def test_hash_is_salted_and_verifies() -> None:
    first, second = hash_password("s3cret", n=CHEAP), hash_password("s3cret", n=CHEAP)
    assert first != second  # salted
    assert "s3cret" not in first
    assert first.startswith("scrypt$")
    assert verify_password("s3cret", first)
    assert verify_password("s3cret", second)


def test_wrong_or_garbled_inputs_do_not_verify() -> None:
    stored = hash_password("s3cret", n=CHEAP)
    assert not verify_password("s3cret ", stored)
    assert not verify_password("", stored)
    assert not verify_password("s3cret", "plain-text")
    assert not verify_password("s3cret", stored.replace("scrypt", "md5"))
    assert not verify_password("s3cret", "scrypt$x$8$1$AAAA$AAAA")


def test_the_default_cost_is_at_least_2_17_and_verifies_within_maxmem() -> None:
    stored = hash_password("s3cret")
    scheme, n, r, p, _, _ = stored.split("$")
    assert scheme == "scrypt" and int(n) >= 2**17 and int(r) >= 8 and int(p) >= 1
    assert verify_password("s3cret", stored)  # 128 MiB fits the memory bound it is read with
    assert not needs_rehash(stored)


def test_hashes_below_todays_cost_need_a_rehash() -> None:
    assert needs_rehash(hash_password("s3cret", n=2**15))
    assert needs_rehash(hash_password("s3cret", n=2**17, r=4))
    assert not needs_rehash("plain-text") and not needs_rehash("md5$x")


def test_needs_rehash_measures_against_the_cost_it_is_given() -> None:
    cheap = hash_password("s3cret", n=2**10)
    assert not needs_rehash(cheap, n=2**10)
    assert needs_rehash(cheap, n=2**11)
    assert needs_rehash(cheap)  # today's default: 2**17


def test_operators_get_the_real_cost_unless_they_lower_it() -> None:
    assert load_settings(environ={}).auth.scrypt_n == 2**17
    lowered = load_settings(environ={"PRIP_AUTH__SCRYPT_LOG2_N": "10"})
    assert lowered.auth.scrypt_n == 2**10
    with pytest.raises(ConfigurationError):
        load_settings(environ={"PRIP_AUTH__SCRYPT_LOG2_N": "4"})
