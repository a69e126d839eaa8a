"""The HTTP app served by uvicorn on a free loopback port, in a thread of the test process:
a real ingress for the availability probe and a real server for the browser (no Ray)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from tests.waiting import wait_until


class AppServer:
    """Start and stop it as often as a test likes; the port stays the same."""

    def __init__(self, app: FastAPI):
        self._app = app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            self._app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        self._thread.start()
        wait_until(lambda: server.started, 30, "uvicorn to listen")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(30)
            self._server = self._thread = None


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[AppServer]:
    server = AppServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()
