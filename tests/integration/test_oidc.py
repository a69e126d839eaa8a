"""Access tokens of an external OpenID Connect provider, its JWKS served by a small real HTTP
server on loopback (the provider is outside the system: this stands in for Keycloak)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from prip_ray.config import load_settings
from prip_ray.errors import AuthenticationFailed, Unavailable
from prip_ray.security.jwt import encode
from prip_ray.security.keys import JWKS_TIMEOUT_S, Jwks, key_id, public_jwk
from prip_ray.serve.app import create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents

REALM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = key_id(REALM_KEY.public_key())


# Keys a real provider may publish beside its signing keys, or get wrong.
ODD_KEYS = [
    {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
    {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
    {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "p384"},
    {"kty": "RSA", "kid": "no-modulus", "e": "AQAB"},
]


class Provider:
    """The realm's certs endpoint; ``hang`` makes it accept requests and never answer."""

    def __init__(self) -> None:
        self.keys: list[object] = [public_jwk(REALM_KEY.public_key())]
        self.hang = False
        self.requests = 0
        self.released = threading.Event()
        self.url = ""


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            if state.hang:
                state.released.wait(60)
                return
            found = self.path.endswith("/protocol/openid-connect/certs")
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"keys": state.keys}).encode() if found else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/realms/copernicus"
    yield state
    state.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def realm(provider: Provider) -> str:
    return provider.url


def kc_token(issuer: str, **extra: object) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "prip",
        "preferred_username": "alice",
        "iat": now,
        "exp": now + 300,
    }
    return encode({**claims, **extra}, REALM_KEY, KID)


def test_keycloak_tokens_are_verified_against_its_jwks(
    realm: str, tmp_path: Path, built_components: BuildComponents
) -> None:
    settings = load_settings(
        data_dir=tmp_path, auth={"oidc": {"issuer": realm, "audience": "prip"}}
    )
    components = built_components(settings)
    components.migrate()
    components.users.add("alice", cheap_hash("pw"), "download")
    with TestClient(create_app(api_services(components))) as api:

        def status(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return api.get("/odata/v1/Products", headers=headers).status_code

        assert status(kc_token(realm)) == 200
        assert status(kc_token(realm, aud="account")) == 401
        assert status(kc_token(realm, exp=int(time.time()) - 600)) == 401
        assert status(kc_token(realm, preferred_username="mallory")) == 401  # not a PRIP user
        foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = encode({"iss": realm, "aud": "prip", "preferred_username": "alice",
                         "exp": int(time.time()) + 300}, foreign, KID)  # fmt: skip
        assert status(forged) == 401
        components.users.set_disabled("alice", True)
        assert status(kc_token(realm)) == 401


def test_keys_of_unsupported_types_beside_the_realm_key_are_skipped(
    provider: Provider, tmp_path: Path, built_components: BuildComponents
) -> None:
    provider.keys = [*ODD_KEYS, *provider.keys]  # before: a 500 for every token
    settings = load_settings(
        data_dir=tmp_path, auth={"oidc": {"issuer": provider.url, "audience": "prip"}}
    )
    components = built_components(settings)
    components.migrate()
    components.users.add("alice", cheap_hash("pw"), "download")
    with TestClient(create_app(api_services(components))) as api:
        headers = {"Authorization": f"Bearer {kc_token(provider.url)}"}
        assert api.get("/odata/v1/Products", headers=headers).status_code == 200


def test_a_provider_that_hangs_stalls_no_request_and_is_not_asked_again_at_once(
    provider: Provider,
) -> None:
    clock = [1000.0]
    jwks = Jwks(f"{provider.url}/protocol/openid-connect/certs", clock=lambda: clock[0])
    assert jwks.key(KID, "RS256") is not None  # the keys at hand
    provider.hang = True
    clock[0] += 3600  # the set is stale and an unknown kid may refresh it
    outcome: list[BaseException] = []
    fetching = threading.Thread(target=lambda: outcome.append(_refusal(jwks, "rotated")))
    fetching.start()
    _wait_for(lambda: provider.requests == 2)  # that request now waits for the provider
    started = time.monotonic()
    assert jwks.key(KID, "RS256") is not None  # the known key still verifies, at once
    with pytest.raises(Unavailable):
        jwks.key("another-new-kid", "RS256")  # before: queued behind the fetch for 10 s
    assert time.monotonic() - started < 0.5
    fetching.join(JWKS_TIMEOUT_S + 5)
    assert not fetching.is_alive() and isinstance(outcome[0], Unavailable)  # after the timeout
    clock[0] += 0.5  # within the backoff after the failed fetch
    started = time.monotonic()
    with pytest.raises(Unavailable):
        jwks.key("rotated", "RS256")
    assert jwks.key(KID, "RS256") is not None
    assert time.monotonic() - started < 0.5 and provider.requests == 2  # not asked again
    provider.hang = False
    clock[0] += 60  # the backoff is over: the provider is back
    with pytest.raises(AuthenticationFailed, match="does not publish"):
        jwks.key("rotated", "RS256")
    assert provider.requests == 3


def test_while_the_provider_is_unreachable_tokens_get_a_quick_503(
    tmp_path: Path, built_components: BuildComponents
) -> None:
    closed = "http://127.0.0.1:9/realms/copernicus"  # the discard port: nobody listens
    settings = load_settings(
        data_dir=tmp_path, auth={"oidc": {"issuer": closed, "audience": "prip"}}
    )
    components = built_components(settings)
    components.migrate()
    with TestClient(create_app(api_services(components))) as api:
        for _ in range(3):
            started = time.monotonic()
            headers = {"Authorization": f"Bearer {kc_token(closed)}"}
            answer = api.get("/odata/v1/Products", headers=headers)
            assert answer.status_code == 503 and answer.headers["Retry-After"]
            assert time.monotonic() - started < 1


def _refusal(jwks: Jwks, kid: str) -> BaseException:
    with pytest.raises(Unavailable) as refused:
        jwks.key(kid, "RS256")
    return refused.value


def _wait_for(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
