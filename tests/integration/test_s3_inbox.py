"""An inbox in object storage (``ingest.inbox: s3://BUCKET/PREFIX/``) on the session's
SeaweedFS: products PUT there are streamed through QC, copied server-side into the store,
published once, and deleted only after; refusals go to the quarantine prefix with their
reason; a crash between publication and deletion is finished, not repeated."""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from sqlalchemy import Engine

from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, load_settings
from prip_ray.services.dispatch import ShardPlan
from prip_ray.storage.s3 import ObjectVersion, S3ObjectStore, copy_object, s3_client
from prip_ray.storage.s3_quarantine import S3Quarantine
from tests.fixtures.components import BuildComponents
from tests.samples import SAMPLES_DIR, extract_sample, retar
from tests.seaweedfs import S3Server

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
SAMPLE = SAMPLES[0]
pytestmark = pytest.mark.s3


class S3Inbox:
    """The inbox as a producer sees it: ``<test>/in/`` of a bucket the module's tests share
    (SeaweedFS takes seconds to create one), beside the store's ``<test>/store/``."""

    def __init__(self, bucket: S3Settings):
        test = uuid.uuid4().hex[:12]
        self.settings = bucket
        self.store = bucket.model_copy(update={"prefix": f"{test}/store/"})
        self.client = s3_client(self.settings)
        self.prefix = f"{test}/in/"
        self.url = f"s3://{self.settings.bucket}/{self.prefix}"

    def put(self, name: str, body: bytes) -> str:
        self.client.put_object(Bucket=self.settings.bucket, Key=self.prefix + name, Body=body)
        return self.url + name

    def keys(self) -> list[str]:
        """Keys under the inbox prefix, without it."""
        found = self.client.list_objects_v2(Bucket=self.settings.bucket, Prefix=self.prefix)
        return sorted(item["Key"].removeprefix(self.prefix) for item in found.get("Contents", []))

    def get(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read()
        return body


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> S3Settings:
    settings = s3_server.settings(f"test-{uuid.uuid4().hex[:16]}")
    S3ObjectStore(settings).ensure_bucket()
    return settings


@pytest.fixture
def inbox(bucket: S3Settings) -> S3Inbox:
    return S3Inbox(bucket)


def _components(
    build: BuildComponents,
    tmp_path: Path,
    inbox: S3Inbox,
    db_url: str | None = None,
    store_kind: str = "s3",
) -> Components:
    settings = load_settings(
        data_dir=tmp_path / "prip",
        db={"url": db_url},
        store={
            "kind": store_kind,
            "s3": inbox.store.model_dump(),
        },
        ingest={"inbox": inbox.url},
    )
    components = build(settings)
    components.migrate()
    return components


def _calls(client: Any) -> Counter[str]:
    """Operations ``client`` is asked for from now on, by name (CopyObject, GetObject...)."""
    seen: Counter[str] = Counter()
    client.meta.events.register("before-call.s3", lambda model, **_: seen.update([model.name]))
    return seen


def test_a_product_is_streamed_copied_server_side_published_once_then_deleted(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    source = inbox.put(SAMPLE.name, SAMPLE.read_bytes())
    inbox.put(f".{SAMPLE.name}.part", b"still being written")  # not a product yet
    inbox.put("sub/elsewhere.tar", b"not directly under the prefix")
    assert [item.source for item in components.inbox.ready()] == [source]
    store_calls = _calls(components.store.client)  # type: ignore[attr-defined]
    inbox_calls = _calls(components.object_inbox.client)  # type: ignore[union-attr]

    outcome = components.ingest.ingest(source)

    assert outcome.status == "published", outcome.reason
    product = components.products.by_name(SAMPLE.name)
    assert product is not None
    stored = b"".join(components.store.read(product.object_key))
    assert stored == SAMPLE.read_bytes()
    assert product.checksum("MD5") == hashlib.md5(SAMPLE.read_bytes()).hexdigest()
    assert inbox.keys() == [f".{SAMPLE.name}.part", "sub/elsewhere.tar"]
    assert components.ingest.journal.entries() == []
    # Read once by QC, copied by the server: the store never got the bytes from us.
    assert store_calls["CopyObject"] == 1 and store_calls["PutObject"] == 0
    assert inbox_calls["GetObject"] == 1 and inbox_calls["DeleteObjects"] == 1


def test_a_corrupt_product_moves_to_the_quarantine_prefix_with_its_reason(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    broken = SAMPLE.read_bytes()[:3000]
    source = inbox.put(SAMPLE.name, broken)

    outcome = components.ingest.ingest(source)

    assert outcome.status == "rejected"
    kept = f"quarantine/{SAMPLE.name}"
    assert inbox.keys() == [kept, f"{kept}.reason.json"]
    assert inbox.get(inbox.prefix + kept) == broken
    reason = json.loads(inbox.get(f"{inbox.prefix}{kept}.reason.json"))
    assert reason["code"] == "InvalidPackage" and reason["source"] == source
    assert components.object_inbox.refused.reasons() == [reason]  # type: ignore[union-attr]
    assert components.inbox.ready() == []  # the quarantine prefix is not the inbox
    assert list(components.store.keys()) == []


def test_a_crash_between_publication_and_deletion_is_finished_not_repeated(
    tmp_path: Path,
    inbox: S3Inbox,
    clean_pg: Engine,
    built_components: BuildComponents,
) -> None:
    db_url = clean_pg.url.render_as_string(hide_password=False)
    crashing = _components(built_components, tmp_path, inbox, db_url)
    source = inbox.put(SAMPLE.name, SAMPLE.read_bytes())
    published_at_delete: list[bool] = []

    def crash(**_: Any) -> None:
        published_at_delete.append(crashing.products.by_name(SAMPLE.name) is not None)
        raise RuntimeError("the QC worker's node went away")

    client = crashing.object_inbox.client  # type: ignore[union-attr]
    client.meta.events.register("before-call.s3.DeleteObjects", crash)
    with pytest.raises(RuntimeError):
        crashing.ingest.ingest(source)
    assert published_at_delete == [True]  # deleted only once it was published
    assert inbox.keys() == [SAMPLE.name]

    restarted = _components(built_components, tmp_path, inbox, db_url)
    resolved = restarted.ingest.recover(
        lambda name: True, restarted.inbox.holds, stale_after=timedelta(hours=1)
    )
    assert resolved == 1
    assert inbox.keys() == []
    assert restarted.ingest.journal.entries() == []
    assert len(list(restarted.store.keys())) == 1  # published once
    product = restarted.products.by_name(SAMPLE.name)
    assert product is not None
    assert b"".join(restarted.store.read(product.object_key)) == SAMPLE.read_bytes()


def test_a_product_seen_again_after_the_crash_is_completed_not_published_twice(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    crashing = _components(built_components, tmp_path, inbox)
    source = inbox.put(SAMPLE.name, SAMPLE.read_bytes())
    client = crashing.object_inbox.client  # type: ignore[union-attr]
    client.meta.events.register("before-call.s3.DeleteObjects", _crash)
    with pytest.raises(RuntimeError):
        crashing.ingest.ingest(source)

    again = _components(built_components, tmp_path, inbox).ingest.ingest(source)

    assert again.status == "completed"
    assert inbox.keys() == []
    assert len(list(crashing.store.keys())) == 1


def _crash(**_: Any) -> None:
    raise RuntimeError("crashed")


def test_a_shard_lists_only_its_own_keys(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    names = {f"S2B_PRODUCT_{i:02d}.tar" for i in range(12)}
    for name in names:
        inbox.put(name, b"x")

    plans = [ShardPlan(k, 3, max_in_flight=8) for k in range(3)]
    listed = [{item.name for item in components.inbox.ready(p.owns)} for p in plans]

    assert set.union(*listed) == names
    assert sum(len(mine) for mine in listed) == len(names)  # each key in one shard only
    for k, mine in enumerate(listed):
        assert all(zlib.crc32(name.encode()) % 3 == k for name in mine)


def test_another_endpoint_or_a_local_store_gets_one_download(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox, store_kind="local")
    source = inbox.put(SAMPLE.name, SAMPLE.read_bytes())
    calls = _calls(components.object_inbox.client)  # type: ignore[union-attr]

    assert components.ingest.ingest(source).status == "published"

    product = components.products.by_name(SAMPLE.name)
    assert product is not None
    assert b"".join(components.store.read(product.object_key)) == SAMPLE.read_bytes()
    assert calls["GetObject"] == 1 and inbox.keys() == []


def test_an_object_over_the_single_copy_limit_is_copied_in_parts(inbox: S3Inbox) -> None:
    body = bytes(range(256)) * (45_000)  # 11.5 MB: three parts of 5 MB
    inbox.put("big.bin", body)
    bucket, key = inbox.settings.bucket, inbox.prefix + "big.bin"
    head = inbox.client.head_object(Bucket=bucket, Key=key)
    version = ObjectVersion(bucket, key, head["ETag"], len(body), head["LastModified"])
    calls = _calls(inbox.client)

    copy_object(inbox.client, version, bucket, key + ".copy", 5 << 20, whole_up_to=0)

    assert calls["UploadPartCopy"] == 3 and calls["CopyObject"] == 0
    assert inbox.get(key + ".copy") == body


def test_a_product_replaced_after_qc_is_not_published_with_what_qc_read(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    source = inbox.put(SAMPLE.name, SAMPLE.read_bytes())
    gzipped = retar(extract_sample(SAMPLE.stem, tmp_path / "x"), tmp_path / "new.tar", gzip=True)
    replaced: list[str] = []

    def replace_it(**_: Any) -> None:  # the producer delivers a new version meanwhile
        if not replaced:
            replaced.append(inbox.put(SAMPLE.name, gzipped.read_bytes()))

    components.store.client.meta.events.register(  # type: ignore[attr-defined]
        "before-call.s3.CopyObject", replace_it
    )

    first = components.ingest.ingest(source)
    assert first.status == "retry" and "condition" in (first.reason or "")
    assert components.products.by_name(SAMPLE.name) is None

    assert components.ingest.ingest(source).status == "published"
    product = components.products.by_name(SAMPLE.name)
    assert product is not None
    assert b"".join(components.store.read(product.object_key)) == gzipped.read_bytes()
    assert product.checksum("MD5") == hashlib.md5(gzipped.read_bytes()).hexdigest()
    assert len(list(components.store.keys())) == 1


def test_an_s3_outage_at_deletion_leaves_it_published_and_cleared_next_time(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    source = inbox.put(SAMPLE.name, SAMPLE.read_bytes())
    client = components.object_inbox.client  # type: ignore[union-attr]
    client.meta.events.register("before-call.s3.DeleteObjects", _unreachable)

    assert components.ingest.ingest(source).status == "published"
    assert inbox.keys() == [SAMPLE.name]  # left for the next attempt, its journal row kept
    [entry] = components.ingest.journal.entries()
    assert entry.state == "published"

    client.meta.events.unregister("before-call.s3.DeleteObjects", _unreachable)
    assert components.ingest.ingest(source).status == "completed"
    assert inbox.keys() == [] and components.ingest.journal.entries() == []
    assert len(list(components.store.keys())) == 1


def _unreachable(**_: Any) -> None:
    raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_an_s3_refusal_is_a_quarantine_entry_retried_and_purged_like_any(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    broken = SAMPLE.read_bytes()[:3000]
    source = inbox.put(SAMPLE.name, broken)
    assert components.ingest.ingest(source).status == "rejected"
    service = components.quarantine()

    [entry] = service.entries()
    kept = f"s3://{inbox.settings.bucket}/{inbox.prefix}quarantine/{SAMPLE.name}"
    assert (entry.name, entry.code, entry.size, entry.location) == (
        SAMPLE.name,
        "InvalidPackage",
        len(broken),
        kept,
    )
    assert service.reconcile() == 0  # its object is there: the row stays

    assert service.retry(SAMPLE.name) == source
    assert inbox.keys() == [SAMPLE.name] and service.entries() == []
    assert inbox.get(inbox.prefix + SAMPLE.name) == broken

    assert components.ingest.ingest(source).status == "rejected"  # refused again
    assert service.purge(before=datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert inbox.keys() == [] and service.entries() == []


def _db_away(location: str, record: dict[str, Any], size: int) -> None:
    raise ConnectionError("the DB went away")


def test_an_s3_refusal_whose_row_was_never_written_is_settled_by_the_next_round(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    objects = components.object_inbox
    assert objects is not None
    broken = SAMPLE.read_bytes()[:3000]
    source = inbox.put(SAMPLE.name, broken)
    version = objects.head(objects.prefix + SAMPLE.name)
    assert version is not None
    crashing = S3Quarantine(
        lambda: objects.client, objects.bucket, objects.refused.prefix, objects.prefix, _db_away
    )  # the shard's refusal, cut between its objects and its row
    with pytest.raises(ConnectionError):
        crashing.put(version, SAMPLE.name, "needs a look", "InvalidPackage")
    service = components.quarantine()
    assert service.entries() == []

    components.roller().run_once()  # the next round records it
    [entry] = service.entries()
    kept = f"s3://{inbox.settings.bucket}/{inbox.prefix}quarantine/{SAMPLE.name}"
    assert (entry.name, entry.code, entry.size, entry.location) == (
        SAMPLE.name, "InvalidPackage", len(broken), kept,
    )  # fmt: skip

    assert components.ingest.ingest(source).status == "rejected"  # still in the inbox
    [again] = service.entries()
    assert again.times == 2 and again.location != kept  # the newest bytes only
    assert list(objects.refused.held()) == [again.location]
    assert service.purge(before=datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert objects.refused.held() == {} and inbox.keys() == []


def test_an_s3_retry_or_purge_cut_before_its_row_went_is_settled_by_the_next_round(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    objects = components.object_inbox
    assert objects is not None
    source = inbox.put(SAMPLE.name, SAMPLE.read_bytes()[:3000])
    assert components.ingest.ingest(source).status == "rejected"
    service = components.quarantine()
    [entry] = service.entries()
    objects.refused.restore(entry.location, SAMPLE.name)  # retry's first step, then a crash
    components.roller().run_once()
    assert service.entries() == [] and inbox.keys() == [SAMPLE.name]

    assert components.ingest.ingest(source).status == "rejected"
    [entry] = service.entries()
    objects.refused.remove(entry.location)  # purge's first step, then a crash
    components.roller().run_once()
    assert service.entries() == [] and objects.refused.held() == {} and inbox.keys() == []


def test_a_round_over_recorded_s3_refusals_lists_the_prefix_once(
    tmp_path: Path, inbox: S3Inbox, built_components: BuildComponents
) -> None:
    components = _components(built_components, tmp_path, inbox)
    for i in range(3):
        source = inbox.put(f"{i}{SAMPLE.name}", SAMPLE.read_bytes()[:3000])
        assert components.ingest.ingest(source).status == "rejected"
    service = components.quarantine()
    assert len(service.entries()) == 3
    objects = components.object_inbox
    assert objects is not None
    calls = _calls(objects.client)
    assert service.reconcile() == 0
    assert calls == Counter({"ListObjectsV2": 1})  # no reason read, no object asked for
