"""JSON Web Tokens signed with ES256 (EC P-256) or RS256, with ``cryptography`` only.

Verification is strict on purpose: the algorithm must match the key's type (no ``none``, no
HMAC with a public key), the signature must verify, and ``exp``/``nbf``/``aud``/``iss`` must
hold. Every refusal is an AuthenticationFailed that says why, without echoing the token.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from prip_ray.errors import AuthenticationFailed

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
KeyLookup = Callable[[str | None, str], PublicKey]  # (kid, alg) -> key
LEEWAY_S = 30  # clock skew tolerated between issuer and us
MAX_TOKEN = 16_384


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    return (
        "ES256"
        if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey))
        else "RS256"
    )


def encode(claims: dict[str, Any], key: PrivateKey, kid: str) -> str:
    header = {"alg": algorithm_of(key), "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}".encode()
    return f"{signing_input.decode()}.{_b64(_sign(key, signing_input))}"


def decode(
    token: str, keys: KeyLookup, *, audience: str | None, issuer: str, now: float | None = None
) -> dict[str, Any]:
    header, claims, signing_input, signature = _split(token)
    alg = header.get("alg")
    if alg not in ("ES256", "RS256"):
        raise AuthenticationFailed(f"token algorithm {alg!r} is not accepted")
    key = keys(header.get("kid"), alg)
    if algorithm_of(key) != alg:
        raise AuthenticationFailed("token algorithm does not match its key")
    if not _verify(key, signing_input, signature):
        raise AuthenticationFailed("token signature is not valid")
    _check_claims(claims, audience=audience, issuer=issuer, now=time.time() if now is None else now)
    return claims


def _check_claims(claims: dict[str, Any], *, audience: str | None, issuer: str, now: float) -> None:
    if claims.get("iss") != issuer:
        raise AuthenticationFailed("token issuer is not accepted")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or now > exp + LEEWAY_S:
        raise AuthenticationFailed("token has expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and now + LEEWAY_S < nbf:
        raise AuthenticationFailed("token is not valid yet")
    if audience is not None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            raise AuthenticationFailed("token is meant for another audience")


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    if len(token) > MAX_TOKEN or token.count(".") != 2:
        raise AuthenticationFailed("malformed token")
    head, body, signature = token.split(".")
    try:
        header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
        raw_signature = _unb64(signature)
    except (ValueError, UnicodeDecodeError):
        raise AuthenticationFailed("malformed token") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthenticationFailed("malformed token")
    return header, claims, f"{head}.{body}".encode(), raw_signature


def _sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS wants raw r||s
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _verify(key: PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
