"""Ingestion shards and QC workers on the shared local Ray, taking products from an S3 inbox
(SeaweedFS) into an S3 store on the same server."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray

from prip_ray.actors.factory import start_ingestion
from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, Settings
from prip_ray.storage.s3 import s3_client
from tests.samples import SAMPLES_DIR
from tests.waiting import wait_until

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
CORRUPT = "S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D05_N05.11.tar"
pytestmark = pytest.mark.s3


def test_shards_ingest_what_producers_put_in_the_s3_inbox(
    ray_settings: Settings, s3_settings: S3Settings, tmp_path: Path
) -> None:
    store = s3_settings.model_copy(update={"prefix": "store/"})
    settings = ray_settings.model_copy(
        update={
            "store": ray_settings.store.model_copy(update={"kind": "s3", "s3": store}),
            "ingest": ray_settings.ingest.model_copy(
                update={"inbox": f"s3://{s3_settings.bucket}/in/"}
            ),
        }
    )
    components = Components(settings)
    components.migrate()
    shards = start_ingestion(settings)
    client, bucket = s3_client(s3_settings), s3_settings.bucket
    try:
        for sample in SAMPLES:
            client.put_object(Bucket=bucket, Key=f"in/{sample.name}", Body=sample.read_bytes())
        client.put_object(Bucket=bucket, Key=f"in/{CORRUPT}", Body=b"not an archive")

        def waiting() -> list[str]:
            found = client.list_objects_v2(Bucket=bucket, Prefix="in/", Delimiter="/")
            return [item["Key"] for item in found.get("Contents", [])]

        wait_until(lambda: waiting() == [], what="the S3 inbox to empty")
        published = {s.name: components.products.by_name(s.name) for s in SAMPLES}
        for sample in SAMPLES:
            product = published[sample.name]
            assert product is not None
            assert b"".join(components.store.read(product.object_key)) == sample.read_bytes()
        assert sorted(components.store.keys()) == sorted(
            p.object_key for p in published.values() if p
        )
        [reason] = components.object_inbox.refused.reasons()  # type: ignore[union-attr]
        assert reason["name"] == CORRUPT and reason["code"] == "InvalidPackage"
        assert components.ingest.journal.entries() == []
    finally:
        for handle in shards:
            ray.kill(handle)
        components.close()
