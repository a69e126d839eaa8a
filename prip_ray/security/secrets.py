"""Encryption at rest of the notification endpoints' passwords (Fernet: AES-128-CBC + HMAC).

The key is a file every replica and the notifier read (created on first use for the
embedded default; on a cluster, a mounted secret). The API never returns the cleartext.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from secrets import token_hex

from cryptography.fernet import Fernet, InvalidToken

from prip_ray.errors import ConfigurationError


class SecretBox:
    def __init__(self, key_file: Path):
        if not key_file.exists():
            _create_key(key_file)
        try:
            self._fernet = Fernet(key_file.read_bytes().strip())
        except ValueError as e:
            raise ConfigurationError(f"{key_file}: not a Fernet key: {e}") from e

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as e:
            raise ConfigurationError(
                "a stored endpoint password does not open with this key"
            ) from e


def _create_key(key_file: Path) -> None:
    """A new key at ``key_file`` unless another process made one first. Written whole under a
    name of its own, then linked into place: the replicas of a first start all come here at
    once, and one that read the file between another's create and write found it empty."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    draft = key_file.with_name(f".{key_file.name}.{os.getpid()}.{token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key())
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(draft, key_file)
    finally:
        draft.unlink()
