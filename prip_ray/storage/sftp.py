"""Deliver files to a remote folder over SFTP (asyncssh) so the peer never sees a partial file.

Each file is written under a temporary dot-name beside its final path, its size (and, if
asked, its MD5 read back) checked, then renamed into place. A file already at the final path
with the expected size (and MD5) is a delivery that happened before a restart: reported as
such, not sent again. Host keys are checked against known_hosts unless explicitly disabled.
"""

from __future__ import annotations

import hashlib
import posixpath
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from prip_ray.config import FosSettings
from prip_ray.errors import ConfigurationError
from prip_ray.errors import RemoteConflict as RemoteConflict
from prip_ray.storage.webhook import DeliveryFailed

_READ = 1 << 18


@dataclass(frozen=True)
class SftpTarget:
    host: str
    port: int
    username: str
    directory: str
    password: str | None = None
    key_file: Path | None = None
    known_hosts: Path | None = None
    check_host_key: bool = True
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, fos: FosSettings) -> SftpTarget:
        if not fos.sftp_url:
            raise ConfigurationError("no FOS SFTP URL (PRIP_FOS_SFTP_URL) is set")
        url = urllib.parse.urlsplit(fos.sftp_url)
        if url.scheme != "sftp" or not url.hostname or not url.username:
            raise ConfigurationError(
                f"PRIP_FOS_SFTP_URL must look like sftp://user@host:port/dir, not {fos.sftp_url}"
            )
        return cls(
            host=url.hostname,
            port=url.port or 22,
            username=urllib.parse.unquote(url.username),
            directory=urllib.parse.unquote(url.path) or ".",
            password=fos.password.get_secret_value() if fos.password else None,
            key_file=fos.key_file,
            known_hosts=fos.known_hosts,
            check_host_key=not fos.insecure_no_host_check,
            timeout_s=fos.timeout_s,
        )

    def session(self, verify_readback: bool = True) -> SftpSession:
        """A connection for one round of deliveries (opened by ``async with``)."""
        return SftpSession(self, verify_readback)

    def connect_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "connect_timeout": self.timeout_s,
            "login_timeout": self.timeout_s,
        }
        if not self.check_host_key:
            options["known_hosts"] = None
        elif self.known_hosts is not None:
            options["known_hosts"] = str(self.known_hosts)
        if self.password is not None:
            options["password"] = self.password
        if self.key_file is not None:
            options["client_keys"] = [str(self.key_file)]
        else:
            options["client_keys"] = None if self.password is not None else ()
        return options


class SftpSession:
    """One connection to the peer, for a round of deliveries (``async with``)."""

    def __init__(self, target: SftpTarget, verify_readback: bool = True):
        self._target = target
        self._verify = verify_readback
        self._connection: Any = None
        self._sftp: Any = None

    async def __aenter__(self) -> SftpSession:
        try:
            self._connection = await asyncssh.connect(**self._target.connect_options())
            self._sftp = await self._connection.start_sftp_client()
        except (OSError, asyncssh.Error) as e:
            await self.__aexit__()
            raise DeliveryFailed(f"FOS {self._target.host}:{self._target.port}: {e}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sftp is not None:
            self._sftp.exit()
        if self._connection is not None:
            self._connection.close()
            await self._connection.wait_closed()

    async def deliver(
        self, relative_path: str, chunks: Iterator[bytes], size: int, md5: str | None
    ) -> tuple[str, bool]:
        """Put the bytes at ``directory/relative_path``; returns (remote path, whether it was
        there already)."""
        final = posixpath.join(self._target.directory, relative_path)
        folder, base = posixpath.split(final)
        temporary = posixpath.join(folder, f".{base}.part")
        try:
            if await self._complete(final, size, md5):
                return final, True
            if folder:
                await self._sftp.makedirs(folder, exist_ok=True)
            async with self._sftp.open(temporary, "wb") as remote:
                for chunk in chunks:
                    await remote.write(chunk)
            if not await self._complete(temporary, size, md5):
                await self._sftp.remove(temporary)
                raise DeliveryFailed(f"{final}: the uploaded copy differs; sent again later")
            await self._rename(temporary, final)
        except (OSError, asyncssh.Error) as e:
            raise DeliveryFailed(f"FOS {final}: {e}") from None
        return final, False

    async def _complete(self, path: str, size: int, md5: str | None) -> bool:
        try:
            attrs = await self._sftp.stat(path)
        except asyncssh.SFTPNoSuchFile:
            return False
        if attrs.size != size:
            if path.endswith(".part"):
                return False
            raise RemoteConflict(f"{path} exists at FOS with {attrs.size} bytes, not {size}")
        if not self._verify or md5 is None:
            return True
        digest = hashlib.md5(usedforsecurity=False)
        async with self._sftp.open(path, "rb") as remote:
            while block := await remote.read(_READ):
                digest.update(block)
        if digest.hexdigest() == md5:
            return True
        if path.endswith(".part"):
            return False
        raise RemoteConflict(f"{path} exists at FOS with other content (MD5 {digest.hexdigest()})")

    async def _rename(self, source: str, target: str) -> None:
        try:
            await self._sftp.posix_rename(source, target)  # atomic, replaces nothing partial
        except asyncssh.SFTPOpUnsupported:
            await self._sftp.rename(source, target)
