"""Access tokens of an external OpenID Connect provider, its JWKS served by a small real HTTP
server on loopback (the provider is outside the system: this stands in for Keycloak)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.passwords import hash_password
from prip_ray.security.jwt import encode
from prip_ray.security.keys import key_id, public_jwk
from prip_ray.serve.app import create_app

REALM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = key_id(REALM_KEY.public_key())


@pytest.fixture
def realm() -> Iterator[str]:
    document = json.dumps({"keys": [public_jwk(REALM_KEY.public_key())]}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.endswith("/protocol/openid-connect/certs")
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document if found else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/realms/copernicus"
    server.shutdown()


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


def test_keycloak_tokens_are_verified_against_its_jwks(realm: str, tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, auth={"oidc": {"issuer": realm, "audience": "prip"}}
    )
    components = Components(settings)
    components.migrate()
    components.users.add("alice", hash_password("pw"), "download")
    with TestClient(create_app(components.api_services())) as api:

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
    components.close()
