"""A real SFTP server on loopback standing in for FOS (asyncssh's server side, in a thread).

It serves a folder, logs in one user by password or key, records every rename (each is one
delivery becoming visible), and can be stopped and started on the same port, or told to cut
the connection in the middle of the next transfers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncssh

USER, PASSWORD = "fos", "fos-pw"


class FosServer:
    def __init__(self, root: Path, loop: asyncio.AbstractEventLoop):
        self.root = root
        self.loop = loop
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self.renames: list[str] = []
        self.cut_next = 0  # cut the connection in the middle of this many transfers
        self.cuts = 0
        self.lock = threading.Lock()
        self._server: Any = None

    def url(self, directory: str = "/hktm") -> str:
        return f"sftp://{USER}@127.0.0.1:{self.port}{directory}"

    def write_known_hosts(self, path: Path, key: Any = None) -> Path:
        public = (key or self.host_key).export_public_key().decode().strip()
        path.write_text(f"[127.0.0.1]:{self.port} {public}\n")
        return path

    def write_client_key(self, path: Path) -> Path:
        self.client_key.write_private_key(str(path))
        return path

    def files(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
        }

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)

    async def _stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _start(self) -> None:
        state = self

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == USER and password == PASSWORD

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                return username == USER and key.export_public_key() == (
                    state.client_key.export_public_key()
                )

        class Sftp(asyncssh.SFTPServer):
            def __init__(self, chan: asyncssh.SSHServerChannel):
                super().__init__(chan, chroot=str(state.root).encode())
                self._cutting = False

            def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
                with state.lock:
                    if pflags & asyncssh.FXF_WRITE and state.cut_next > 0:
                        state.cut_next -= 1
                        self._cutting = True
                return super().open(path, pflags, attrs)

            def write(self, file_obj: object, offset: int, data: bytes) -> int:
                if self._cutting and offset > 0:
                    with state.lock:
                        state.cuts += 1
                    self.connection.abort()
                    raise asyncssh.SFTPConnectionLost("cut by the test")
                return super().write(file_obj, offset, data)  # type: ignore[return-value]

            def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
                super().posix_rename(oldpath, newpath)
                with state.lock:
                    state.renames.append(newpath.decode())

            def rename(self, oldpath: bytes, newpath: bytes) -> None:
                super().rename(oldpath, newpath)
                with state.lock:
                    state.renames.append(newpath.decode())

        self._server = await asyncssh.create_server(
            Server,
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            sftp_factory=Sftp,
            allow_scp=False,
        )
        self.port = self._server.sockets[0].getsockname()[1]


@contextmanager
def fos_server(root: Path) -> Iterator[FosServer]:
    root.mkdir(parents=True, exist_ok=True)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fos-sftp", daemon=True)
    thread.start()
    server = FosServer(root, loop)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
