"""OAuth 2.0 access tokens: the PRIP issues its own (signed JWTs) and, if configured, accepts
those of an external OpenID Connect provider (Keycloak), verified against its JWKS."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass

from prip_ray.config import AuthSettings
from prip_ray.domain.users import User
from prip_ray.errors import AuthenticationFailed
from prip_ray.security.jwt import PrivateKey, PublicKey, decode, encode
from prip_ray.security.keys import Jwks, key_id

TICKET_AUDIENCE = "prip-ray-download"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class Ticket:
    """A download ticket's grant: ``user`` may fetch product ``product_id``'s bytes, or only
    its file ``node`` (None: the whole product), read from product ``source`` if set."""

    user: str
    product_id: str
    node: str | None = None
    source: str | None = None


class TokenService:
    def __init__(self, settings: AuthSettings, signing_key: PrivateKey, jwks: Jwks | None = None):
        self._settings = settings
        self._key = signing_key
        self._public = signing_key.public_key()
        self._kid = key_id(self._public)
        oidc = settings.oidc
        if jwks is None and oidc.issuer:
            jwks = Jwks(oidc.jwks_url or f"{oidc.issuer.rstrip('/')}/protocol/openid-connect/certs")
        self._jwks = jwks

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def issue(self, user: User, now: float | None = None) -> IssuedToken:
        issued = int(time.time() if now is None else now)
        ttl = self._settings.token_ttl_s
        claims = {
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "sub": user.name,
            "role": user.role,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl,
            "jti": uuid.uuid4().hex,
        }
        return IssuedToken(encode(claims, self._key, self._kid), ttl)

    def issue_ticket(
        self,
        user: User,
        product_id: str,
        ttl_s: int = 60,
        *,
        node: str | None = None,
        source: str | None = None,
    ) -> str:
        """A short-lived, single-purpose token: this user may fetch this product's bytes from
        the download gateway (what the OData ``$value`` redirects to); with ``node``, only
        that file of it (its path in the product's Nodes, ``/``-separated), or of the
        product ``source`` (a quicklook the product borrows from it), downloaded as the
        product's."""
        issued = int(time.time())
        claims = {
            "iss": self._settings.issuer,
            "aud": TICKET_AUDIENCE,
            "sub": user.name,
            "pid": product_id,
            "iat": issued,
            "exp": issued + ttl_s,
        }
        if node is not None:
            claims["node"] = node
        if source is not None:
            claims["src"] = source
        return encode(claims, self._key, self._kid)

    def ticket(self, token: str) -> Ticket:
        """What a valid download ticket allows."""
        claims = decode(
            token, self._own_key, audience=TICKET_AUDIENCE, issuer=self._settings.issuer
        )
        user, product = claims.get("sub"), claims.get("pid")
        node, source = claims.get("node"), claims.get("src")
        if not isinstance(user, str) or not isinstance(product, str):
            raise AuthenticationFailed("malformed download ticket")
        if any(v is not None and not isinstance(v, str) for v in (node, source)):
            raise AuthenticationFailed("malformed download ticket")
        return Ticket(user, product, node, source)

    def user_name(self, token: str, now: float | None = None) -> str:
        """The local user a valid token speaks for; AuthenticationFailed otherwise."""
        oidc = self._settings.oidc
        if self._jwks is not None and oidc.issuer and _claimed_issuer(token) == oidc.issuer:
            claims = decode(
                token, self._jwks.key, audience=oidc.audience, issuer=oidc.issuer, now=now
            )
            name = claims.get(oidc.username_claim)
        else:
            claims = decode(
                token, self._own_key, audience=self._settings.audience,
                issuer=self._settings.issuer, now=now,
            )  # fmt: skip
            name = claims.get("sub")
        if not isinstance(name, str) or not name:
            raise AuthenticationFailed("token names no user")
        return name

    def _own_key(self, kid: str | None, alg: str) -> PublicKey:
        if kid not in (None, self._kid):
            raise AuthenticationFailed("token was signed by a key this PRIP does not use")
        return self._public


def _claimed_issuer(token: str) -> str | None:
    """The unverified ``iss``, only to pick which keys verify the token."""
    try:
        body = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None
