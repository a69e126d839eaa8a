"""Withdrawal on both databases: by the admin action and the command, a product goes
offline at once, its bytes go, subscribers hear of it with the cause, it is listed in
DeletedProducts; withdrawing twice changes nothing; a crash before the bytes are gone is
finished; a corrected delivery under the same name is published again."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from prip_ray.bootstrap import Components
from prip_ray.cli import app
from prip_ray.config import S3Settings, load_settings
from prip_ray.db.tables import outbox
from prip_ray.errors import StorageError
from prip_ray.serve.app import basic_header
from prip_ray.storage.local import LocalObjectStore
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents
from tests.receiver import receiver
from tests.samples import TILE, sample

ROOT = basic_header("root", "root-pw")
ALICE = basic_header("alice", "alice-pw")
CAUSE = "corrupted granule, reprocessing"


def withdraw(api: TestClient, product_id: str, body: Any, headers: Any = ROOT) -> httpx.Response:
    return api.post(
        f"/odata/v1/Products({product_id})/OData.CSC.Withdraw", json=body, headers=headers
    )


def tile(components: Components) -> Any:
    product = components.products.by_name(f"{TILE}.tar")
    assert product is not None
    return product


def deleted_events(components: Components) -> int:
    with components.engine.connect() as conn:
        query = select(func.count()).select_from(outbox).where(outbox.c.event == "deleted")
        return int(conn.execute(query).scalar_one())


def test_admins_withdraw_a_product_once(api: TestClient, components: Components) -> None:
    components.users.add("root", cheap_hash("root-pw"), "admin")
    product = tile(components)
    assert withdraw(api, str(product.id), {"DeletionCause": CAUSE}, ALICE).status_code == 403
    assert withdraw(api, str(product.id), {}).status_code == 400
    answer = withdraw(api, str(product.id), {"DeletionCause": CAUSE})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["@odata.context"] == "$metadata#DeletedProducts/$entity"
    assert body["DeletionCause"] == f"Withdrawn: {CAUSE}" and body["Online"] is False
    assert components.store.size(product.object_key) is None
    offline = api.get(f"/odata/v1/Products({product.id})", headers=ALICE).json()
    assert offline["Online"] is False
    listed = api.get(f"/odata/v1/DeletedProducts({product.id})", headers=ALICE).json()
    assert listed["DeletionCause"] == f"Withdrawn: {CAUSE}"
    again = withdraw(api, str(product.id), {"DeletionCause": "something else"})
    assert again.json()["DeletionCause"] == f"Withdrawn: {CAUSE}"
    assert deleted_events(components) == 1
    unknown = withdraw(api, "00000000-0000-0000-0000-000000000000", {"DeletionCause": CAUSE})
    assert unknown.status_code == 404


def test_subscribers_hear_the_cause(api: TestClient, components: Components) -> None:
    with receiver() as endpoint:
        components.subscriptions.create(
            owner="alice", event="deleted", filter_param=f"Name eq '{TILE}.tar'",
            endpoint=endpoint.url, username=None, sealed_password=None, now=datetime.now(UTC),
        )  # fmt: skip
        components.withdrawer().withdraw_name(f"{TILE}.tar", CAUSE)
        components.settings.subscriptions.allowed_networks = ["127.0.0.0/8"]  # the receiver
        notifier = components.notifier()
        try:
            notifier.run_once()
        finally:
            notifier.close()
        (note,) = endpoint.received
    assert note["SubscriptionEvent"] == "deleted" and note["ProductName"] == f"{TILE}.tar"
    assert note["value"]["DeletionCause"] == f"Withdrawn: {CAUSE}"
    assert note["value"]["Online"] is False


def test_withdrawing_an_evicted_product_records_the_withdrawal(
    api: TestClient, components: Components
) -> None:
    components.roller(now=lambda: datetime.now(UTC) + timedelta(days=8)).run_once()
    report = components.withdrawer().withdraw_name(f"{TILE}.tar", CAUSE)
    assert not report.announced and report.freed_bytes == 0
    assert components.deleted_products().get(report.product_id).cause == f"Withdrawn: {CAUSE}"
    assert deleted_events(components) == 3  # one per eviction, none for the withdrawal


class _FailsOnce(LocalObjectStore):
    def __init__(self, root: Path):
        super().__init__(root)
        self.failed = False

    def delete(self, key: str) -> None:
        if not self.failed:
            self.failed = True
            raise StorageError(f"cannot delete {key}: the store is away")
        super().delete(key)


@pytest.mark.parametrize("finisher", ["withdraw again", "roller sweep"])
def test_a_crash_before_the_bytes_are_gone_is_finished(
    api: TestClient, components: Components, finisher: str
) -> None:
    product = tile(components)
    components.store = _FailsOnce(components.settings.store_root)
    with pytest.raises(StorageError):
        components.withdrawer().withdraw_name(product.name, CAUSE)
    assert components.store.size(product.object_key) is not None  # offline, bytes left
    assert components.products.get(product.id).online is False
    assert components.deleted_products().get(product.id).cause == f"Withdrawn: {CAUSE}"
    if finisher == "withdraw again":
        report = components.withdrawer().withdraw_name(product.name, CAUSE)
        assert report.freed_bytes == product.content_length and not report.announced
    else:
        assert components.roller().run_once().orphans_removed == 1
    assert components.store.size(product.object_key) is None
    assert deleted_events(components) == 1


def test_a_withdrawn_product_is_published_again(api: TestClient, components: Components) -> None:
    old = tile(components)
    subscription = components.subscriptions.create(
        owner="alice", event="created", filter_param="Online eq true",
        endpoint="http://127.0.0.1:9/", username=None, sealed_password=None,
        now=datetime.now(UTC),
    )  # fmt: skip
    components.withdrawer().withdraw_name(old.name, CAUSE)
    inbox = components.settings.inbox
    waiting = components.ingest.ingest(shutil.copy(sample(TILE), inbox / f"{TILE}.tar"))
    assert waiting.status == "retry"  # the subscription has not heard of the withdrawal
    assert (inbox / f"{TILE}.tar").exists()
    newest = max(e.seq for e in components.subscriptions.events_after(0, 100))
    components.subscriptions.advance(subscription.id, newest, None)
    published = components.ingest.ingest(inbox / f"{TILE}.tar")
    assert published.status == "published", published.reason
    new = tile(components)
    assert new.id != old.id and new.online
    assert components.store.size(new.object_key) is not None
    assert components.deleted_products().get(old.id).product.name == old.name


def test_the_command_withdraws(tmp_path: Path, built_components: BuildComponents) -> None:
    settings = load_settings(data_dir=tmp_path, ingest={"settle_s": 0})
    components = built_components(settings)
    components.migrate()
    settings.inbox.mkdir(parents=True, exist_ok=True)
    assert components.ingest.ingest(Path(shutil.copy(sample(TILE), settings.inbox))).status == (
        "published"
    )
    runner = CliRunner()
    args = ["product", "withdraw", f"{TILE}.tar", "--cause", CAUSE, "--data-dir", str(tmp_path)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "withdrawn" in done.output and CAUSE in done.output
    product = components.products.by_name(f"{TILE}.tar")
    assert product is not None and not product.online
    assert list(components.store.keys()) == []
    assert runner.invoke(app, args).exit_code == 0  # again: nothing changes
    args = ["product", "withdraw", "NOPE", "--cause", "x", "--data-dir", str(tmp_path)]
    missing = runner.invoke(app, args)
    assert missing.exit_code == 1 and "NOPE" in missing.output


@pytest.mark.s3
def test_withdrawal_on_s3(
    tmp_path: Path, s3_settings: S3Settings, built_components: BuildComponents
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        store={"kind": "s3", "s3": s3_settings.model_dump()},
        ingest={"settle_s": 0},
    )
    components = built_components(settings)
    components.migrate()
    settings.inbox.mkdir(parents=True, exist_ok=True)
    dropped = Path(shutil.copy(sample(TILE), settings.inbox))
    assert components.ingest.ingest(dropped).status == "published"
    assert len(list(components.store.keys())) == 1
    report = components.withdrawer().withdraw_name(f"{TILE}.tar", CAUSE)
    assert report.announced and report.freed_bytes > 0
    assert list(components.store.keys()) == []
    assert components.deleted_products().get(report.product_id).cause == f"Withdrawn: {CAUSE}"
