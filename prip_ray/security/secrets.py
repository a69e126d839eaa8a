"""Encryption at rest of the notification endpoints' passwords (Fernet: AES-128-CBC + HMAC).

The key is a file every replica and the notifier read (created on first use for the
embedded default; on a cluster, a mounted secret). The API never returns the cleartext.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from prip_ray.errors import ConfigurationError


class SecretBox:
    def __init__(self, key_file: Path):
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(Fernet.generate_key())
            except FileExistsError:
                pass  # another process made it first
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
