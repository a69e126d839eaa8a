from prip_ray.domain.passwords import hash_password, verify_password


def test_hash_is_salted_and_verifies() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second  # salted
    assert "s3cret" not in first
    assert first.startswith("scrypt$")
    assert verify_password("s3cret", first)
    assert verify_password("s3cret", second)


def test_wrong_or_garbled_inputs_do_not_verify() -> None:
    stored = hash_password("s3cret")
    assert not verify_password("s3cret ", stored)
    assert not verify_password("", stored)
    assert not verify_password("s3cret", "plain-text")
    assert not verify_password("s3cret", stored.replace("scrypt", "md5"))
    assert not verify_password("s3cret", "scrypt$x$8$1$AAAA$AAAA")
