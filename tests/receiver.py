"""A real HTTP receiver on loopback standing in for a subscriber's endpoint (outside the
system): it records every notification, and can be told to fail for a while."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self.failing = 0  # answer 503 to this many requests
        self.lock = threading.Lock()
        self.url = ""

    def pairs(self) -> Counter[tuple[str, str]]:
        with self.lock:
            return Counter((n["ProductId"], n["SubscriptionId"]) for n in self.received)

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                if state.failing > 0:
                    state.failing -= 1
                    status = 503
                else:
                    state.received.append(json.loads(body))
                    state.authorizations.append(self.headers.get("Authorization"))
                    status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
