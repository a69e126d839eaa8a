"""A real HTTP receiver on loopback standing in for a subscriber's endpoint (outside the
system): it records every notification, and can be told to fail for a while. Beside it,
hostile endpoints on raw sockets: one that answers garbage, one that never answers.

The notifier refuses loopback unless the operator allows it: settings that send to these
receivers set ``subscriptions.allowed_networks`` to :data:`LOOPBACK`."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = ["127.0.0.0/8"]


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


@contextmanager
def raw_endpoint(answer: bytes | None) -> Iterator[str]:
    """A TCP server on loopback that reads each request, then sends ``answer`` and closes;
    with ``answer`` None it accepts and never answers (until the context ends). Yields its
    URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                if answer is None:
                    done.wait(60)
                else:
                    conn.sendall(answer)
            except OSError:
                pass

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/notify"
    finally:
        done.set()
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        listener.close()
