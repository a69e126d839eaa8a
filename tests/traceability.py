"""A real Traceability Service stand-in on loopback (the service is outside the system).

It checks what the real one would: the bearer token, the trace's shape, and the signature
against the certificate the trace carries, verified here with cryptography directly (not
with prip-ray's own code). It keeps every accepted trace, answers GET by name, and can be
told to be down (503) for a number of requests, to fail (500) or refuse (422) the traces of
some products, or to take a while over each PUT (counting how many it serves at once).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

TOKEN = "trace-token"


def signature_verifies(trace: dict[str, Any]) -> bool:
    signature = trace["signature"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(signature["certificate"]))
    message = signature["message"].encode()
    raw = base64.b64decode(signature["signature"])
    public = certificate.public_key()
    try:
        if signature["algorithm"] == "RSA-SHA256":
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
        elif signature["algorithm"] == "ECDSA-SHA256":
            assert isinstance(public, ec.EllipticCurvePublicKey)
            public.verify(raw, message, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    signed = json.loads(message)
    return signed == {k: trace[k] for k in ("product", "event", "hash_algorithm")}


class TraceService:
    def __init__(self) -> None:
        self.traces: list[dict[str, Any]] = []
        self.down = 0  # answer 503 to this many requests
        self.refuse: set[str] = set()  # product names answered 422
        self.fail: set[str] = set()  # product names answered 500 (until removed)
        self.delay_s = 0.0  # each PUT takes this long
        self.in_flight = 0
        self.most_in_flight = 0  # PUTs served at once, at most
        self.bad_signatures = 0
        self.requests = 0
        self.lock = threading.Lock()
        self.url = ""

    def events(self) -> Counter[tuple[str, str]]:
        with self.lock:
            return Counter((t["product"]["name"], t["event"]) for t in self.traces)

    def count(self) -> int:
        with self.lock:
            return len(self.traces)


@contextmanager
def trace_service() -> Iterator[TraceService]:
    state = TraceService()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                time.sleep(state.delay_s)
                status, answer = self._put(body)
            finally:
                with state.lock:
                    state.in_flight -= 1
            self._answer(status, answer)

        def do_GET(self) -> None:
            if not self._authorised():
                return self._answer(401, {"error": "no token"})
            prefix = "/v1/traces/name/"
            if not self.path.startswith(prefix):
                return self._answer(404, {"error": "no such route"})
            name = urllib.parse.unquote(self.path[len(prefix) :])
            with state.lock:
                if state.down > 0:
                    state.down -= 1
                    return self._answer(503, {"error": "down"})
                found = [t for t in state.traces if t["product"]["name"] == name]
            self._answer(200, found)

        def _put(self, body: bytes) -> tuple[int, Any]:
            with state.lock:
                state.requests += 1
                if state.down > 0:
                    state.down -= 1
                    return 503, {"error": "down for maintenance"}
            if not self._authorised():
                return 403, {"error": "bad token"}
            if self.path != "/v1/traces":
                return 404, {"error": "no such route"}
            trace = json.loads(body)
            if trace["product"]["name"] in state.fail:
                return 500, {"error": "internal error with this product"}
            if trace["product"]["name"] in state.refuse:
                return 422, {"error": "product name not accepted"}
            if not signature_verifies(trace):
                with state.lock:
                    state.bad_signatures += 1
                return 422, {"error": "signature does not verify"}
            with state.lock:
                state.traces.append(trace)
            return 201, {"id": len(state.traces)}

        def _authorised(self) -> bool:
            return self.headers.get("Authorization") == f"Bearer {TOKEN}"

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
