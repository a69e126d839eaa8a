"""An inbox in object storage: ``s3://BUCKET/PREFIX/``, where producers PUT products.

A product is an object directly under the prefix; it is complete once it exists (S3 shows
an object, a multipart one too, only when its upload is complete), so there is no settle
time. Keys further down (``PREFIX/x/y``) are not products: the quarantine prefix lives
there by default. Names starting with ``.`` or ending in ``.part``, ``.tmp``... are left
alone, as in the folder inbox.

QC streams the object from one GET, which also tells its ETag. When the store is on the
same endpoint, publication copies the object server-side, conditional on that ETag (a
product replaced meanwhile is retried, not published with the bytes QC read), so the bytes
pass through a QC worker once;
otherwise the object is downloaded once to scratch, and QC and the store read that copy.
The source is deleted only after publication. A refused object is copied to the
quarantine prefix (storage/s3_quarantine.py), then deleted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

from botocore.exceptions import ClientError

from prip_ray.config import S3Settings
from prip_ray.domain.package import Package, StreamedPackage
from prip_ray.errors import StorageError
from prip_ray.ports import ObjectStore
from prip_ray.ports.inbox import InboxItem
from prip_ray.storage.s3 import (
    FAILURES,
    ObjectVersion,
    S3ObjectStore,
    head_object,
    http_status,
)
from prip_ray.storage.s3_quarantine import Recorder, S3Quarantine

_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".filepart", ".crdownload")


class S3Inbox:
    def __init__(
        self,
        settings: S3Settings,
        quarantine_prefix: str,
        work_dir: Path,
        copy_to: S3ObjectStore | None = None,
        client_factory: Callable[[], Any] | None = None,
        recorded: Recorder | None = None,
    ):
        """``copy_to``: the object store, when it shares this inbox's endpoint (server-side
        copies); None: products are downloaded once and put. ``recorded``: told of each
        refusal (the PRIP DB's quarantine rows)."""
        self._objects = S3ObjectStore(settings, client_factory)
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.work_dir = work_dir
        self.copy_to = copy_to
        self.refused = S3Quarantine(
            lambda: self.client, self.bucket, quarantine_prefix, self.prefix, recorded
        )

    @property
    def client(self) -> Any:
        return self._objects.client

    def ready(self, wanted: Callable[[str], bool] = lambda published_name: True) -> list[InboxItem]:
        """Objects directly under the prefix whose name is ``wanted``, oldest first."""
        items = [
            InboxItem(name, self.source_of(name), item["LastModified"], size=item["Size"])
            for item in self._listing(self.prefix, delimiter="/")
            if (name := item["Key"][len(self.prefix) :]) and not _in_progress(name) and wanted(name)
        ]
        return sorted(items, key=lambda item: (item.modified, item.name))

    def holds(self, source: str) -> bool:
        name = source.removeprefix(self.source_of(""))
        return name != source and bool(name) and "/" not in name

    def source_of(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"

    def delivery(self, source: str) -> ObjectDelivery:
        return ObjectDelivery(self, source.removeprefix(self.source_of("")))

    def head(self, key: str) -> ObjectVersion | None:
        """The object at ``key`` (a full key) as it is now; None when there is none."""
        return head_object(self.client, self.bucket, key)

    def get(self, key: str) -> tuple[ObjectVersion, Any] | None:
        """The object at ``key`` as it is now and its body, to read and close, in one
        request; None when there is none."""
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if http_status(e) == 404:
                return None
            raise StorageError(f"cannot read s3://{self.bucket}/{key}: {e}") from e
        except FAILURES as e:
            raise StorageError(f"cannot read s3://{self.bucket}/{key}: {e}") from e
        size, etag = int(found["ContentLength"]), found["ETag"]
        version = ObjectVersion(self.bucket, key, etag, size, found["LastModified"])
        return version, found["Body"]

    def open(self, version: ObjectVersion) -> AbstractContextManager[IO[bytes]]:
        """A stream of the object, only if it is still ``version``."""
        try:
            body = self.client.get_object(
                Bucket=self.bucket, Key=version.key, IfMatch=version.etag
            )["Body"]
        except FAILURES as e:
            raise StorageError(f"cannot read {version.url}: {e}") from e
        return streaming(body, version.url)

    def remove_all(self, sources: Sequence[str]) -> None:
        """DeleteObjects, 1000 keys a request (S3's most)."""
        keys = [self.prefix + source.removeprefix(self.source_of("")) for source in sources]
        for start in range(0, len(keys), 1000):
            objects = [{"Key": key} for key in keys[start : start + 1000]]
            try:
                done = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
                )
            except FAILURES as e:
                raise StorageError(f"cannot delete from s3://{self.bucket}: {e}") from e
            if failed := done.get("Errors"):
                raise StorageError(f"cannot delete from s3://{self.bucket}: {failed[:3]}")

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except FAILURES as e:
            raise StorageError(f"cannot delete s3://{self.bucket}/{key}: {e}") from e

    def _listing(self, prefix: str, delimiter: str = "") -> Iterator[dict[str, Any]]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter=delimiter
            )
            for page in pages:
                yield from page.get("Contents", [])
        except FAILURES as e:
            raise StorageError(f"cannot list s3://{self.bucket}/{prefix}: {e}") from e


@contextmanager
def streaming(body: Any, url: str) -> Iterator[IO[bytes]]:
    """``body`` as a stream, closed after. A read that breaks off raises StorageError
    (retried), never an error QC would blame the product for."""
    with closing(body):
        yield cast(IO[bytes], _Guarded(body, url))


class _Guarded:
    """An object's body whose failures are outages (StorageError)."""

    def __init__(self, body: Any, url: str):
        self._body = body
        self._url = url

    def read(self, n: int | None = None) -> bytes:
        try:
            data: bytes = self._body.read(n)
        except FAILURES as e:
            raise StorageError(f"reading {self._url} broke off: {e}") from e
        return data


class ObjectDelivery:
    """One object of an S3 inbox, as it was when QC looked at it (its ETag)."""

    def __init__(self, inbox: S3Inbox, name: str):
        self._inbox = inbox
        self._name = name
        self._version: ObjectVersion | None = None

    @property
    def source(self) -> str:
        return self._inbox.source_of(self._name)

    @property
    def published_name(self) -> str:
        return self._name

    def package(self, scratch: ExitStack) -> Package:
        """One GET gives the object's ETag and its bytes: QC reads that body first; a
        second read (an OLQC report is parsed whole) asks for the same ETag again."""
        found = self._inbox.get(self._inbox.prefix + self._name)
        if found is None:  # taken away meanwhile: nothing to ingest, nothing lost
            raise StorageError(f"{self.source} is gone")
        version, body = found
        scratch.callback(body.close)  # closed even if QC refuses it before reading
        self._version = version
        unread = [streaming(body, version.url)]

        def opened() -> AbstractContextManager[IO[bytes]]:
            return unread.pop() if unread else self._inbox.open(version)

        if self._inbox.copy_to is None:  # the store cannot copy it: one download for both
            return self._download(opened, scratch)
        return StreamedPackage(self._name, version.size, opened, self._inbox.work_dir)

    def modified(self) -> datetime:
        assert self._version is not None  # package() looked it up
        return self._version.modified

    def store_into(self, store: ObjectStore, key: str, package: Package) -> None:
        """A download is put; a stream (the store is ``copy_to``) is copied server-side."""
        if isinstance(package, Path):
            store.put_file(key, package)
            return
        assert self._inbox.copy_to is not None and self._version is not None
        self._inbox.copy_to.copy_in(key, self._version)

    def exists(self) -> bool:
        return self._inbox.head(self._inbox.prefix + self._name) is not None

    def remove(self) -> None:
        self._inbox.delete(self._inbox.prefix + self._name)

    def quarantine(self, reason: str, code: str, *, move: bool) -> None:
        version = self._inbox.head(self._inbox.prefix + self._name)
        if version is not None:  # else taken away meanwhile: nothing to keep
            self._inbox.refused.put(version, self._name, reason, code)
            if move:
                self._inbox.delete(version.key)

    def _download(
        self, opened: Callable[[], AbstractContextManager[IO[bytes]]], scratch: ExitStack
    ) -> Path:
        self._inbox.work_dir.mkdir(parents=True, exist_ok=True)
        folder = scratch.enter_context(tempfile.TemporaryDirectory(dir=self._inbox.work_dir))
        target = Path(folder, self._name)
        with opened() as body, target.open("wb") as out:
            while chunk := body.read(1 << 20):
                out.write(chunk)
        return target


def _in_progress(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(_IN_PROGRESS_SUFFIXES)
