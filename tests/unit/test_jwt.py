import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from prip_ray.errors import AuthenticationFailed
from prip_ray.security.jwt import decode, encode
from prip_ray.security.keys import Jwks, key_id, parse_jwk, public_jwk, usable_keys

EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": "prip", "aud": "api", "sub": "lta", "iat": now, "exp": now + 60, **extra}


@pytest.mark.parametrize("key", [EC_KEY, RSA_KEY], ids=["ES256", "RS256"])
def test_round_trip_and_every_refusal(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    public = key.public_key()
    token = encode(claims(), key, key_id(public))
    assert decode(token, lambda kid, alg: public, audience="api", issuer="prip")["sub"] == "lta"
    refusals = {
        "expired": encode(claims(exp=int(time.time()) - 120), key, "k"),
        "not valid yet": encode(claims(nbf=int(time.time()) + 600), key, "k"),
        "audience": encode(claims(aud="other"), key, "k"),
        "issuer": encode(claims(iss="evil"), key, "k"),
        "signature": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "malformed": "not-a-token",
    }
    for why, bad in refusals.items():
        with pytest.raises(AuthenticationFailed, match=why if why != "malformed" else "malformed"):
            decode(bad, lambda kid, alg: public, audience="api", issuer="prip")


def test_algorithm_must_match_the_key() -> None:
    token = encode(claims(), RSA_KEY, "k")
    with pytest.raises(AuthenticationFailed, match="does not match"):
        decode(token, lambda kid, alg: EC_KEY.public_key(), audience="api", issuer="prip")


def test_jwks_round_trip_and_refresh_on_unknown_kid() -> None:
    documents = [{"keys": [public_jwk(EC_KEY.public_key()), public_jwk(RSA_KEY.public_key())]}]
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, object]:
        fetched.append(url)
        return documents[-1]

    jwks = Jwks("http://127.0.0.1/certs", fetch=fetch)
    rsa_kid = key_id(RSA_KEY.public_key())
    token = encode(claims(), RSA_KEY, rsa_kid)
    assert decode(token, jwks.key, audience="api", issuer="prip")["sub"] == "lta"
    assert len(fetched) == 1
    with pytest.raises(AuthenticationFailed, match="does not publish"):
        jwks.key("unknown-kid", "RS256")
    assert (
        parse_jwk(public_jwk(EC_KEY.public_key())).public_numbers()
        == EC_KEY.public_key().public_numbers()
    )


def test_keys_of_other_types_or_malformed_are_skipped_not_fatal() -> None:
    good = public_jwk(RSA_KEY.public_key())
    document = {
        "keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "p384"},
            {"kty": "RSA", "kid": "no-modulus", "e": "AQAB"},
            {"kty": "RSA", "kid": "not-base64", "n": 12, "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "off-curve"},
            "not-a-key",
            good,
        ]
    }
    assert list(usable_keys(document)) == [good["kid"]]
    with pytest.raises(ValueError, match="list of keys"):
        usable_keys({"keys": "x"})
