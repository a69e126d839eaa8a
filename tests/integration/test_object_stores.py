"""One behaviour for both object stores: the local folder and S3 (real SeaweedFS)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prip_ray.config import S3Settings
from prip_ray.errors import StorageError
from prip_ray.ports import ObjectStore
from prip_ray.storage.local import LocalObjectStore
from prip_ray.storage.s3 import S3ObjectStore


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "store")
    else:
        settings: S3Settings = request.getfixturevalue("s3_settings")
        yield S3ObjectStore(settings.model_copy(update={"prefix": "products/"}))


def write(tmp_path: Path, data: bytes, name: str = "payload") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_size_and_read_back(store: ObjectStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    store.put_file("id-1/product.tar", write(tmp_path, data))
    assert store.size("id-1/product.tar") == len(data)
    assert b"".join(store.read("id-1/product.tar")) == data


@pytest.mark.parametrize(("start", "end"), [(0, 0), (10239, 10239), (100, 5000), (9000, None)])
def test_ranges_are_inclusive(store: ObjectStore, tmp_path: Path, start: int, end: int | None) -> None:
    data = os.urandom(10240)
    store.put_file("k", write(tmp_path, data))
    expected = data[start:] if end is None else data[start : end + 1]
    assert b"".join(store.read("k", start, end)) == expected


def test_keys_by_prefix_and_idempotent_delete(store: ObjectStore, tmp_path: Path) -> None:
    payload = write(tmp_path, b"x")
    for key in ("a/1", "a/2", "b/1"):
        store.put_file(key, payload)
    assert sorted(store.keys("a/")) == ["a/1", "a/2"]
    assert sorted(store.keys()) == ["a/1", "a/2", "b/1"]
    store.delete("a/1")
    store.delete("a/1")
    assert store.size("a/1") is None
    assert sorted(store.keys()) == ["a/2", "b/1"]


def test_absent_objects(store: ObjectStore) -> None:
    assert store.size("nothing/here") is None
    with pytest.raises(StorageError):
        b"".join(store.read("nothing/here"))


def test_overwrite_replaces_the_whole_object(store: ObjectStore, tmp_path: Path) -> None:
    store.put_file("k", write(tmp_path, b"long content here", "one"))
    store.put_file("k", write(tmp_path, b"short", "two"))
    assert b"".join(store.read("k")) == b"short"


def test_local_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    for key in ("../outside", "/etc/passwd", "a/../../b"):
        with pytest.raises(StorageError, match="inside the store"):
            store.put_file(key, write(tmp_path, b"x"))


@pytest.mark.s3
def test_multipart_upload_reads_back_identical(s3_settings: S3Settings, tmp_path: Path) -> None:
    settings = s3_settings.model_copy(update={"multipart_threshold_mb": 5, "multipart_chunk_mb": 5})
    store = S3ObjectStore(settings)
    data = os.urandom(12 * 1024 * 1024 + 17)
    store.put_file("big", write(tmp_path, data))
    assert store.size("big") == len(data)
    assert b"".join(store.read("big")) == data


@pytest.mark.s3
def test_first_upload_creates_a_missing_bucket(s3_settings: S3Settings, tmp_path: Path) -> None:
    store = S3ObjectStore(s3_settings.model_copy(update={"bucket": s3_settings.bucket + "-new"}))
    store.put_file("k", write(tmp_path, b"data"))
    assert store.size("k") == 4


@pytest.mark.s3
def test_unreachable_s3_is_a_storage_error_quickly(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave: nothing listens there
    store = S3ObjectStore(S3Settings(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1))
    started = time.monotonic()
    with pytest.raises(StorageError, match="cannot"):
        store.put_file("k", write(tmp_path, b"x"))
    with pytest.raises(StorageError):
        store.size("k")
    assert time.monotonic() - started < 20
