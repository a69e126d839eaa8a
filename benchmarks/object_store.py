"""The S3 store a benchmark runs on: the bucket given on its command line, or a SeaweedFS of
the run's own on loopback (tests/seaweedfs.py). Shared by benchmarks/ingest.py and
benchmarks/soak.py."""

from __future__ import annotations

import argparse
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from prip_ray.config import S3Settings, Settings


def add_s3_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--s3-endpoint", default=None, help="default: a SeaweedFS of its own")
    parser.add_argument("--s3-bucket", default="prip-bench")
    parser.add_argument("--s3-access-key", default=None)
    parser.add_argument("--s3-secret-key", default=None)


def s3_settings(args: argparse.Namespace, tmp: Path, stack: ExitStack) -> S3Settings:
    """The bucket given, or a SeaweedFS of this run's own on loopback (stopped with
    ``stack``)."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}/"  # runs sharing a bucket never meet
    if args.s3_endpoint:
        fields: dict[str, Any] = {
            "endpoint_url": args.s3_endpoint, "bucket": args.s3_bucket, "prefix": prefix,
            "access_key_id": args.s3_access_key, "secret_access_key": args.s3_secret_key,
        }  # fmt: skip
        return S3Settings(**fields)
    from tests.seaweedfs import seaweedfs  # test tooling: only when no S3 is given

    server = stack.enter_context(seaweedfs(lambda: Path(tempfile.mkdtemp(dir=tmp))))
    print(f"SeaweedFS on {server.endpoint_url}, up in {server.start_s:.1f} s", flush=True)
    return server.settings(args.s3_bucket, prefix=prefix)


def describe_store(settings: Settings) -> str:
    if settings.store.kind == "s3":
        s3 = settings.store.s3
        return f"s3://{s3.bucket}/{s3.prefix} at {s3.endpoint_url}"
    return str(settings.store_root)
