"""Build the configured object store (a local folder by default, or S3)."""

from __future__ import annotations

from pathlib import Path

from prip_ray.config import S3Settings
from prip_ray.errors import ConfigurationError
from prip_ray.ports import ObjectStore


def build_object_store(kind: str, *, local_root: Path, s3: S3Settings) -> ObjectStore:
    if kind == "local":
        from prip_ray.storage.local import LocalObjectStore

        return LocalObjectStore(local_root)
    if kind == "s3":
        from prip_ray.storage.s3 import S3ObjectStore  # boto3 is only imported when used

        return S3ObjectStore(s3)
    raise ConfigurationError(f"unknown object store kind {kind!r} (local or s3)")
