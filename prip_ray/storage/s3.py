"""S3 (AWS, SeaweedFS, MinIO, Ceph...) as object store, through boto3.

The client is built lazily in the process that uses it (an actor, a replica), never shipped
through Ray, and ``client_factory`` lets tests supply their own. boto3's managed transfer
does multipart uploads above the threshold, and S3 only shows an object once its upload is
complete, which is the atomicity the port asks for. Every botocore/boto3 failure leaves
here as StorageError, so callers (the ingest retry loop, the HTTP error table) need to know
one error, not boto3's.

An object of an S3 inbox on the same endpoint is published by a server-side copy
(``copy_in``: CopyObject, or UploadPartCopy in parts above 5 GB), conditional on the ETag QC
read, so what is published is byte for byte what QC passed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from prip_ray.config import S3Settings
from prip_ray.errors import StorageError

CHUNK = 1 << 20
MB = 1 << 20
MAX_COPY = 5 << 30  # CopyObject copies up to 5 GB; larger objects are copied in parts
MAX_PARTS = 10_000
CONNECT_TIMEOUT_S = 5  # an unreachable endpoint should fail fast: ingest retries later
READ_TIMEOUT_S = 60
# What a boto3 call raises when S3 fails (the S3 inbox translates them too). OSError: the
# local file of an upload, and sockets that break outside botocore's wrappers.
FAILURES = (BotoCoreError, ClientError, Boto3Error, OSError)


def s3_client(settings: S3Settings) -> Any:
    """A client of its own Session: Sessions are not thread-safe, clients are."""
    secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else None
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id=settings.access_key_id,  # None: boto3's default credential chain
        aws_secret_access_key=secret,
        config=Config(
            retries={"max_attempts": settings.max_attempts, "mode": "standard"},
            s3={"addressing_style": "path"},  # SeaweedFS, MinIO: no per-bucket DNS names
            signature_version="s3v4",  # presigned URLs too; SigV2 is deprecated
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
        ),
    )


class S3ObjectStore:
    def __init__(self, settings: S3Settings, client_factory: Callable[[], Any] | None = None):
        self._settings = settings
        self._factory = client_factory or (lambda: s3_client(settings))
        self._client: Any = None
        self._transfer = TransferConfig(
            multipart_threshold=settings.multipart_threshold_mb * MB,
            multipart_chunksize=settings.multipart_chunk_mb * MB,
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                self._client = self._factory()
            except (BotoCoreError, ValueError) as e:  # ValueError: a malformed endpoint_url
                raise StorageError(f"cannot build the S3 client: {e}") from e
        return self._client

    @property
    def bucket(self) -> str:
        return self._settings.bucket

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists; safe to call from many processes at once."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as e:
            if http_status(e) not in (403, 404):  # some servers answer 403 for a missing bucket
                raise StorageError(f"cannot reach bucket {self.bucket}: {e}") from e
        except FAILURES as e:
            raise StorageError(f"cannot reach bucket {self.bucket}: {e}") from e
        try:
            self.client.create_bucket(Bucket=self.bucket)
        except ClientError as e:
            if _code(e) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"cannot create bucket {self.bucket}: {e}") from e
        except FAILURES as e:
            raise StorageError(f"cannot create bucket {self.bucket}: {e}") from e

    def put_file(self, key: str, path: Path) -> None:
        try:
            self._upload(key, path)
        except StorageError as e:
            if not _is_no_such_bucket(e):
                raise
            self.ensure_bucket()  # a fresh deployment: the first product creates the bucket
            self._upload(key, path)

    def _upload(self, key: str, path: Path) -> None:
        try:
            if path.stat().st_size < self._transfer.multipart_threshold:
                # One PutObject: boto3's managed transfer would send the same request, after
                # starting a thread pool for it, which costs a small product more CPU than
                # the request itself.
                with path.open("rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body)
            else:
                self.client.upload_file(
                    str(path), self.bucket, self._key(key), Config=self._transfer
                )
        except FAILURES as e:
            raise StorageError(f"cannot upload {key} to s3://{self.bucket}: {e}") from e

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Asks for the object now, so an absent one fails before the caller answers."""
        request = {"Bucket": self.bucket, "Key": self._key(key)}
        if start or end is not None:  # "bytes=0-" of an empty object would be a 416
            request["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            body = self.client.get_object(**request)["Body"]
        except FAILURES as e:
            raise StorageError(f"cannot read {key} from s3://{self.bucket}: {e}") from e
        return self._chunks(body, key)

    def _chunks(self, body: Any, key: str) -> Iterator[bytes]:
        try:
            with body:
                yield from body.iter_chunks(CHUNK)
        except FAILURES as e:
            raise StorageError(f"reading {key} from s3://{self.bucket} broke off: {e}") from e

    def size(self, key: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            if http_status(e) == 404:
                return None
            raise StorageError(f"cannot stat {key} in s3://{self.bucket}: {e}") from e
        except FAILURES as e:
            raise StorageError(f"cannot stat {key} in s3://{self.bucket}: {e}") from e
        return int(head["ContentLength"])

    def presigned_url(self, key: str, ttl_s: int, filename: str) -> str:
        """A GET URL valid ``ttl_s`` seconds that downloads as ``filename``."""
        params = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        }
        try:
            url: str = self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=ttl_s
            )
        except FAILURES as e:
            raise StorageError(f"cannot presign {key}: {e}") from e
        return url

    def delete(self, key: str) -> None:
        """S3 answers 204 for an absent key too, which makes this idempotent."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except FAILURES as e:
            raise StorageError(f"cannot delete {key} from s3://{self.bucket}: {e}") from e

    def keys(self, prefix: str = "") -> Iterator[str]:
        cut = len(self._settings.prefix)
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][cut:]
        except FAILURES as e:
            raise StorageError(f"cannot list s3://{self.bucket}: {e}") from e

    def shares_endpoint(self, other: S3Settings) -> bool:
        """Whether this store's client can read ``other``'s objects: the same server, as the
        same user, so an object there is copied server-side rather than through us."""
        mine = self._settings
        return (mine.endpoint_url, mine.region, mine.access_key_id) == (
            other.endpoint_url,
            other.region,
            other.access_key_id,
        )

    def copy_in(self, key: str, source: ObjectVersion) -> None:
        """Copy ``source`` (on this endpoint) to ``key``, server-side: its bytes never pass
        through this process. StorageError if it changed since it was read (ETag)."""
        try:
            copy_object(self.client, source, self.bucket, self._key(key), self._part_bytes())
        except FAILURES as e:
            raise StorageError(f"cannot copy {source.url} to {key}: {e}") from e

    def _part_bytes(self) -> int:
        return max(self._settings.multipart_chunk_mb * MB, 5 * MB)

    def _key(self, key: str) -> str:
        return self._settings.prefix + key


@dataclass(frozen=True)
class ObjectVersion:
    """One object as it was when it was looked at: copied only if it is still that one."""

    bucket: str
    key: str
    etag: str
    size: int
    modified: datetime

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def head_object(client: Any, bucket: str, key: str) -> ObjectVersion | None:
    """The object at ``key`` as it is now; None when there is none."""
    try:
        found = client.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if http_status(e) == 404:
            return None
        raise StorageError(f"cannot stat s3://{bucket}/{key}: {e}") from e
    except FAILURES as e:
        raise StorageError(f"cannot stat s3://{bucket}/{key}: {e}") from e
    size, etag = int(found["ContentLength"]), found["ETag"]
    return ObjectVersion(bucket, key, etag, size, found["LastModified"])


def copy_object(
    client: Any,
    source: ObjectVersion,
    bucket: str,
    key: str,
    part: int,
    whole_up_to: int = MAX_COPY,
) -> None:
    """CopyObject, or UploadPartCopy in ``part`` byte parts for an object over
    ``whole_up_to`` (5 GB, CopyObject's limit); botocore errors are the caller's to
    translate."""
    if source.size <= whole_up_to:
        client.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": source.bucket, "Key": source.key},
            CopySourceIfMatch=source.etag,
        )
        return
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    try:
        parts = _copy_parts(client, source, bucket, key, upload, part)
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        with contextlib.suppress(*FAILURES):  # parts left behind cost storage until aborted
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
        raise


def _copy_parts(
    client: Any, source: ObjectVersion, bucket: str, key: str, upload: str, part: int
) -> list[dict[str, Any]]:
    part = max(part, -(-source.size // MAX_PARTS))  # S3 takes 10,000 parts at most
    parts = []
    for number, start in enumerate(range(0, source.size, part), start=1):
        end = min(start + part, source.size) - 1
        copied = client.upload_part_copy(
            Bucket=bucket,
            Key=key,
            UploadId=upload,
            PartNumber=number,
            CopySource={"Bucket": source.bucket, "Key": source.key},
            CopySourceRange=f"bytes={start}-{end}",
            CopySourceIfMatch=source.etag,
        )
        parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
    return parts


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_no_such_bucket(error: BaseException) -> bool:
    """boto3's managed transfer wraps the ClientError (S3UploadFailedError); look through."""
    cause: BaseException | None = error
    for _ in range(8):  # a bounded walk down the chain: chains can loop
        if cause is None:
            return False
        if isinstance(cause, ClientError) and _code(cause) == "NoSuchBucket":
            return True
        cause = cause.__cause__ or cause.__context__
    return False
