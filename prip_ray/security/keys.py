"""Token keys: the PRIP's own signing key (a PEM file every replica reads) and the JWKS of an
external OpenID Connect provider (fetched, cached, refreshed when an unknown kid appears)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from prip_ray.errors import AuthenticationFailed, ConfigurationError
from prip_ray.security.jwt import PrivateKey, PublicKey

JWKS_TTL_S = 600
JWKS_MIN_REFRESH_S = 30  # an unknown kid refreshes the set at most this often


def load_or_create_signing_key(path: Path) -> PrivateKey:
    """Read the PEM key; create an EC P-256 key there (mode 0600) if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
        except FileExistsError:
            pass  # another replica made it first: use theirs
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise ConfigurationError(f"{path}: token signing key must be EC P-256 or RSA")
    return key


def key_id(key: PublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


class Jwks:
    """The provider's published keys, by kid."""

    def __init__(self, url: str, fetch: Any = None):
        self._url = url
        self._fetch = fetch or _fetch_json
        self._keys: dict[str, PublicKey] = {}
        self._fetched = 0.0
        self._lock = threading.Lock()

    def key(self, kid: str | None, alg: str) -> PublicKey:
        with self._lock:
            stale = time.monotonic() - self._fetched > JWKS_TTL_S
            unknown = (
                kid not in self._keys and time.monotonic() - self._fetched > JWKS_MIN_REFRESH_S
            )
            if stale or unknown:
                self._refresh()
            found = self._keys.get(kid or "") if kid else next(iter(self._keys.values()), None)
        if found is None:
            raise AuthenticationFailed("token was signed by a key the provider does not publish")
        return found

    def _refresh(self) -> None:
        try:
            document = self._fetch(self._url)
        except (OSError, ValueError) as e:
            raise AuthenticationFailed(f"cannot read the provider's keys: {e}") from None
        self._keys = {
            k.get("kid", ""): parse_jwk(k) for k in document.get("keys", []) if _usable(k)
        }
        self._fetched = time.monotonic()


def parse_jwk(jwk: dict[str, Any]) -> PublicKey:
    if jwk["kty"] == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    if jwk["kty"] == "EC" and jwk.get("crv") == "P-256":
        return ec.EllipticCurvePublicNumbers(
            _int(jwk["x"]), _int(jwk["y"]), ec.SECP256R1()
        ).public_key()
    raise ValueError(f"unsupported key type {jwk.get('kty')}")


def public_jwk(key: PublicKey) -> dict[str, Any]:
    """The JWK of our own public key (what /oauth2/certs publishes)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        numbers = key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x, 32), "y": _b64(numbers.y, 32),
                "kid": key_id(key), "alg": "ES256", "use": "sig"}  # fmt: skip
    rsa_numbers = key.public_numbers()
    size = (rsa_numbers.n.bit_length() + 7) // 8
    return {"kty": "RSA", "n": _b64(rsa_numbers.n, size), "e": _b64(rsa_numbers.e, 3),
            "kid": key_id(key), "alg": "RS256", "use": "sig"}  # fmt: skip


def _usable(jwk: dict[str, Any]) -> bool:
    return jwk.get("use", "sig") == "sig" and jwk.get("kty") in ("RSA", "EC")


def _int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def _b64(value: int, size: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(size, "big")).rstrip(b"=").decode()


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        document: dict[str, Any] = json.loads(response.read(1 << 20))
    return document
