"""Build the configured object store (a local folder by default, or S3).

One place turns ``store.kind`` into an adapter, so services and actors only ever see the
``ObjectStore`` port. The imports are deferred: a local deployment never imports boto3.
"""

from __future__ import annotations

from pathlib import Path

from prip_ray.config import S3Settings
from prip_ray.errors import ConfigurationError
from prip_ray.ports import ObjectStore


def build_object_store(kind: str, *, local_root: Path, s3: S3Settings) -> ObjectStore:
    """The store for ``kind`` ("local" or "s3"); S3 clients are built on first use."""
    if kind == "local":
        from prip_ray.storage.local import LocalObjectStore

        return LocalObjectStore(local_root)
    if kind == "s3":
        from prip_ray.storage.s3 import S3ObjectStore

        return S3ObjectStore(s3)
    raise ConfigurationError(f"unknown object store kind {kind!r} (local or s3)")
