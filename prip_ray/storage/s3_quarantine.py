"""The quarantine prefix of an S3 inbox: each refused object beside ``<name>.reason.json``
(the record the folder quarantine writes), and told to the PRIP DB through ``recorded``.

Copies are server-side, within the inbox's bucket. A refusal's location is
``s3://bucket/key``: what its quarantine row holds, and what retry, purge and reconcile
(services/quarantine.py) hand back here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

from prip_ray.errors import InvalidQuery, StorageError
from prip_ray.storage.s3 import FAILURES, ObjectVersion, copy_object, head_object

REASON = ".reason.json"
PART = 512 << 20  # parts of a copy over 5 GB
Recorder = Callable[[str, dict[str, Any], int], None]  # (location, reason record, size)


class S3Quarantine:
    def __init__(
        self,
        client: Callable[[], Any],
        bucket: str,
        prefix: str,
        inbox_prefix: str,
        recorded: Recorder | None = None,
    ):
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self._inbox_prefix = inbox_prefix
        self._recorded = recorded

    def put(self, version: ObjectVersion, name: str, reason: str, code: str) -> str:
        """Copy ``version`` (of the inbox product ``name``) here beside its reason, and
        record it; its location."""
        target = self._free_key(name)
        record = {
            "name": name,
            "source": version.url,
            "code": code,
            "reason": reason,
            "quarantined_at": datetime.now(UTC).isoformat(),
        }
        body = json.dumps(record, indent=2).encode() + b"\n"
        try:
            copy_object(self._client(), version, self.bucket, target, PART)
            self._client().put_object(
                Bucket=self.bucket, Key=target + REASON, Body=body, ContentType="application/json"
            )
        except FAILURES as e:
            raise StorageError(f"cannot quarantine {version.url}: {e}") from e
        location = self._location(target)
        if self._recorded is not None:
            self._recorded(location, record, version.size)
        return location

    def reasons(self) -> list[dict[str, str]]:
        """The reasons of the refused objects, by name."""
        held = self.held()
        return [self.reason(location) for location in sorted(held) if held[location][1]]

    def held(self) -> dict[str, tuple[int, bool]]:
        """Every refusal in the prefix, from one listing: its location, the bytes it holds
        (0: its object is gone) and whether its reason is there."""
        sizes = dict(self._listing())
        held: dict[str, tuple[int, bool]] = {}
        for key, size in sizes.items():
            target = key.removesuffix(REASON)
            if target == key:
                held[self._location(key)] = (size, key + REASON in sizes)
            elif target not in sizes:
                held[self._location(target)] = (0, True)
        return held

    def reason(self, location: str) -> dict[str, str]:
        """The record written beside the refusal at ``location``."""
        return json.loads(self._read(self._key(location) + REASON))  # type: ignore[no-any-return]

    def exists(self, location: str) -> bool:
        key = self._key(location)
        client = self._client()
        found = head_object(client, self.bucket, key) or head_object(
            client, self.bucket, key + REASON
        )
        return found is not None

    def remove(self, location: str) -> None:
        """The reason first, then the bytes (as the folder quarantine does); gone is fine."""
        key = self._key(location)
        for doomed in (key + REASON, key):
            try:
                self._client().delete_object(Bucket=self.bucket, Key=doomed)
            except FAILURES as e:
                raise StorageError(f"cannot delete s3://{self.bucket}/{doomed}: {e}") from e

    def restore(self, location: str, name: str) -> str:
        """Move the refused object back into the inbox as ``name``; its inbox source."""
        key, target = self._key(location), self._inbox_prefix + name
        version = head_object(self._client(), self.bucket, key)
        if version is None:
            raise StorageError(f"{name} has no bytes in quarantine to retry")
        if head_object(self._client(), self.bucket, target) is not None:
            raise InvalidQuery(f"{name} is in the S3 inbox already")
        try:
            self._client().delete_object(Bucket=self.bucket, Key=key + REASON)
            copy_object(self._client(), version, self.bucket, target, PART)
            self._client().delete_object(Bucket=self.bucket, Key=key)
        except FAILURES as e:
            raise StorageError(f"cannot move {location} back to the inbox: {e}") from e
        return self._location(target)

    def _free_key(self, name: str) -> str:
        target = self.prefix + name
        if head_object(self._client(), self.bucket, target) is None:
            return target
        return f"{target}.{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"

    def _location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _key(self, location: str) -> str:
        key = location.removeprefix(self._location(""))
        if key == location:
            raise StorageError(f"{location} is not in the inbox's bucket {self.bucket}")
        return key

    def _read(self, key: str) -> bytes:
        try:
            body = self._client().get_object(Bucket=self.bucket, Key=key)["Body"]
            with closing(body):
                data: bytes = body.read()
        except FAILURES as e:
            raise StorageError(f"cannot read s3://{self.bucket}/{key}: {e}") from e
        return data

    def _listing(self) -> Iterator[tuple[str, int]]:
        """(key, size) of every object under the quarantine prefix."""
        try:
            pages = (
                self._client()
                .get_paginator("list_objects_v2")
                .paginate(Bucket=self.bucket, Prefix=self.prefix)
            )
            for page in pages:
                yield from ((item["Key"], item["Size"]) for item in page.get("Contents", []))
        except FAILURES as e:
            raise StorageError(f"cannot list s3://{self.bucket}/{self.prefix}: {e}") from e
