"""One behaviour for both object stores: the local folder and S3 (real SeaweedFS).

The services only see the ``ObjectStore`` port, so every test of the contract runs against
both adapters; what only one of them can get wrong (key escapes, multipart, endpoints)
is tested on that one.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from prip_ray.config import S3Settings
from prip_ray.errors import ConfigurationError, StorageError
from prip_ray.ports import ObjectStore
from prip_ray.storage.factory import build_object_store
from prip_ray.storage.local import LocalObjectStore
from prip_ray.storage.s3 import S3ObjectStore

MiB = 1 << 20


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


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed once we leave: nothing listens there


def test_put_size_and_read_back_in_chunks(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB + 100)
    store.put_file("id-1/product.tar", write(tmp_path, data))
    assert store.size("id-1/product.tar") == len(data)
    chunks = list(store.read("id-1/product.tar"))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= MiB


def test_ranges_are_inclusive(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB + 100)
    last = len(data) - 1
    store.put_file("k", write(tmp_path, data))
    ranges = [(0, 0), (last, last), (100, 5000), (MiB - 10, MiB + 10), (9000, None), (0, None)]
    for start, end in ranges:
        expected = data[start:] if end is None else data[start : end + 1]
        assert b"".join(store.read("k", start, end)) == expected, (start, end)


def test_empty_object(store: ObjectStore, tmp_path: Path) -> None:
    store.put_file("empty", write(tmp_path, b""))
    assert store.size("empty") == 0
    assert b"".join(store.read("empty")) == b""


def test_keys_by_prefix(store: ObjectStore, tmp_path: Path) -> None:
    """The order is not part of the contract: SeaweedFS lists folder by folder, AWS by bytes."""
    payload = write(tmp_path, b"x")
    for key in ("b/1", "a/2", "a-b", "a/1", "a/sub/9", "ab"):
        store.put_file(key, payload)
    assert sorted(store.keys()) == ["a-b", "a/1", "a/2", "a/sub/9", "ab", "b/1"]
    assert sorted(store.keys("a/")) == ["a/1", "a/2", "a/sub/9"]
    assert sorted(store.keys("a/s")) == ["a/sub/9"]
    assert sorted(store.keys("a")) == ["a-b", "a/1", "a/2", "a/sub/9", "ab"]
    assert list(store.keys("zzz/")) == []


def test_local_keys_come_in_byte_order_like_aws(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    for key in ("b/1", "a/2", "a-b", "a/1", "a/sub/9", "ab"):
        store.put_file(key, write(tmp_path, b"x"))
    assert list(store.keys()) == ["a-b", "a/1", "a/2", "a/sub/9", "ab", "b/1"]


def test_delete_is_idempotent(store: ObjectStore, tmp_path: Path) -> None:
    payload = write(tmp_path, b"x")
    store.put_file("a/1", payload)
    store.put_file("a/2", payload)
    store.delete("a/1")
    store.delete("a/1")
    store.delete("never/there")
    assert store.size("a/1") is None
    assert list(store.keys()) == ["a/2"]


def test_absent_objects(store: ObjectStore) -> None:
    assert store.size("nothing/here") is None
    with pytest.raises(StorageError):
        store.read("nothing/here")  # before the first chunk: callers have not answered yet


def test_overwrite_replaces_the_whole_object(store: ObjectStore, tmp_path: Path) -> None:
    store.put_file("k", write(tmp_path, b"long content here", "one"))
    store.put_file("k", write(tmp_path, b"short", "two"))
    assert store.size("k") == 5
    assert b"".join(store.read("k")) == b"short"


def test_missing_source_file_is_a_storage_error(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        store.put_file("k", tmp_path / "not-there")
    assert store.size("k") is None


def test_local_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    for key in ("../outside", "/etc/passwd", "a/../../b", "", "a\\..\\b", "nul\0"):
        with pytest.raises(StorageError, match="inside the store"):
            store.put_file(key, write(tmp_path, b"x"))
    assert not (tmp_path / "outside").exists()


def test_local_uploads_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    store.put_file("id/k", write(tmp_path, b"data"))
    (tmp_path / "store" / "id" / ".incoming-crashed").write_bytes(b"half")
    assert list(store.keys()) == ["id/k"]
    assert sorted(p.name for p in (tmp_path / "store" / "id").iterdir()) == [
        ".incoming-crashed",
        "k",
    ]


def test_factory_builds_the_configured_store(tmp_path: Path) -> None:
    s3 = S3Settings()
    assert isinstance(build_object_store("local", local_root=tmp_path, s3=s3), LocalObjectStore)
    assert isinstance(build_object_store("s3", local_root=tmp_path, s3=s3), S3ObjectStore)
    with pytest.raises(ConfigurationError):
        build_object_store("ftp", local_root=tmp_path, s3=s3)


@pytest.mark.s3
def test_multipart_upload_reads_back_identical(s3_settings: S3Settings, tmp_path: Path) -> None:
    settings = s3_settings.model_copy(update={"multipart_threshold_mb": 5, "multipart_chunk_mb": 5})
    store = S3ObjectStore(settings)
    data = os.urandom(12 * MiB + 17)
    store.put_file("big", write(tmp_path, data))
    assert store.size("big") == len(data)
    assert store.client.head_object(Bucket=settings.bucket, Key="big")["ETag"].endswith('-3"')
    assert b"".join(store.read("big")) == data


@pytest.mark.s3
def test_prefix_keeps_stores_apart(s3_settings: S3Settings, tmp_path: Path) -> None:
    whole_bucket = S3ObjectStore(s3_settings)
    products = S3ObjectStore(s3_settings.model_copy(update={"prefix": "products/"}))
    whole_bucket.put_file("elsewhere", write(tmp_path, b"x"))
    products.put_file("k", write(tmp_path, b"y"))
    assert list(products.keys()) == ["k"]
    assert list(whole_bucket.keys()) == ["elsewhere", "products/k"]


@pytest.mark.s3
def test_first_upload_creates_a_missing_bucket(s3_settings: S3Settings, tmp_path: Path) -> None:
    store = S3ObjectStore(s3_settings.model_copy(update={"bucket": s3_settings.bucket + "-new"}))
    store.put_file("k", write(tmp_path, b"data"))
    assert store.size("k") == 4
    store.ensure_bucket()  # and again: idempotent


@pytest.mark.s3
def test_wrong_credentials_are_a_storage_error(s3_settings: S3Settings) -> None:
    wrong = s3_settings.model_copy(
        update={"secret_access_key": SecretStr("wrong"), "max_attempts": 1}
    )
    with pytest.raises(StorageError, match=r"403|Forbidden|SignatureDoesNotMatch"):
        S3ObjectStore(wrong).size("k")


def test_unreachable_s3_is_a_storage_error_quickly(tmp_path: Path) -> None:
    settings = S3Settings(
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        access_key_id="nobody",
        secret_access_key=SecretStr("nothing"),
        max_attempts=1,
    )
    store = S3ObjectStore(settings)
    started = time.monotonic()
    with pytest.raises(StorageError, match="cannot upload k"):
        store.put_file("k", write(tmp_path, b"x"))
    for attempt in (
        lambda: store.size("k"),
        lambda: store.read("k"),
        lambda: store.delete("k"),
        lambda: list(store.keys()),
        store.ensure_bucket,
    ):
        with pytest.raises(StorageError):
            attempt()
    assert time.monotonic() - started < 5


def test_malformed_endpoint_is_a_storage_error() -> None:
    store = S3ObjectStore(S3Settings(endpoint_url="not a url", access_key_id="a"))
    with pytest.raises(StorageError, match="S3 client"):
        store.size("k")
