"""Token keys: the PRIP's own signing key (a PEM file every replica reads) and the JWKS of an
external OpenID Connect provider (fetched, cached, refreshed when an unknown kid appears)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from prip_ray.domain.backoff import Backoff
from prip_ray.errors import AuthenticationFailed, ConfigurationError, Unavailable
from prip_ray.security.jwt import PrivateKey, PublicKey

log = logging.getLogger(__name__)
JWKS_TTL_S = 600
JWKS_MIN_REFRESH_S = 30  # an unknown kid refreshes the set at most this often
JWKS_TIMEOUT_S = 5  # the request that fetches waits this long at most
JWKS_BACKOFF = Backoff(base_s=1.0, max_s=60.0)  # between fetches while the provider is down


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
    """The provider's published keys, by kid.

    Refreshed every ``JWKS_TTL_S``, and early (at most every ``JWKS_MIN_REFRESH_S``) for a
    kid it does not know. One request fetches while the others go on with the keys at hand:
    no lock is held across the network, so a provider that hangs stalls one request, not
    all. A failed fetch keeps the old keys and backs off; meanwhile a token of an unknown
    kid is answered at once (503: try again later), never after a wait for the provider.
    """

    def __init__(
        self,
        url: str,
        fetch: Callable[[str], Any] | None = None,
        *,
        backoff: Backoff = JWKS_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._url = url
        self._fetch = fetch or _fetch_json
        self._backoff = backoff
        self._clock = clock
        self._keys: dict[str, PublicKey] = {}
        self._fetched: float | None = None  # when the keys at hand were read
        self._failures = 0  # consecutive failed fetches
        self._not_before = 0.0  # no fetch before this (backing off)
        self._fetching = False
        self._lock = threading.Lock()  # guards the fields above; never held while fetching

    def key(self, kid: str | None, alg: str) -> PublicKey:
        if self._claim_fetch(kid):
            self._refresh()
        with self._lock:
            found = self._keys.get(kid) if kid else next(iter(self._keys.values()), None)
            unsure = self._fetching or self._failures > 0
        if found is not None:
            return found
        if unsure:  # the provider may publish it, but cannot say so now
            raise Unavailable("the identity provider's keys cannot be read now; retry later")
        raise AuthenticationFailed("token was signed by a key the provider does not publish")

    def _claim_fetch(self, kid: str | None) -> bool:
        """True if this caller should fetch now (and is then the only one fetching)."""
        with self._lock:
            now = self._clock()
            if self._fetching or now < self._not_before:
                return False
            age = None if self._fetched is None else now - self._fetched
            stale = age is None or age > JWKS_TTL_S
            unknown = (kid not in self._keys if kid else not self._keys) and (
                age is None or age > JWKS_MIN_REFRESH_S
            )
            self._fetching = stale or unknown
            return self._fetching

    def _refresh(self) -> None:
        keys: dict[str, PublicKey] | None = None
        try:
            keys = usable_keys(self._fetch(self._url))
        except (OSError, ValueError, http.client.HTTPException) as e:
            log.warning("cannot read the identity provider's keys at %s: %s", self._url, e)
        with self._lock:
            self._fetching = False
            if keys is None:
                self._failures += 1
                self._not_before = self._clock() + self._backoff.delay(self._failures)
            else:
                self._keys, self._fetched, self._failures = keys, self._clock(), 0


def usable_keys(document: Any) -> dict[str, PublicKey]:
    """The signing keys of a JWKS document by kid; a key of a type we do not verify with
    (OKP, oct, another curve) or a malformed one is skipped, not a failure of the set."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the JWKS document has no list of keys")
    keys: dict[str, PublicKey] = {}
    for jwk in entries:
        if not isinstance(jwk, dict) or not _usable(jwk):
            continue
        try:
            keys[str(jwk.get("kid", ""))] = parse_jwk(jwk)
        except (KeyError, TypeError, ValueError) as e:
            log.warning("skipping JWKS key %r: %s", jwk.get("kid"), e)
    return keys


def parse_jwk(jwk: dict[str, Any]) -> PublicKey:
    """A public key from its JWK; KeyError, TypeError or ValueError if it is not one."""
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
    if not isinstance(text, str):
        raise TypeError("a JWK number must be a base64url string")
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def _b64(value: int, size: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(size, "big")).rstrip(b"=").decode()


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_S) as response:
        document: dict[str, Any] = json.loads(response.read(1 << 20))
    return document
