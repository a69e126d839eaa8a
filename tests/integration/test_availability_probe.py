"""The availability probe does what a user does, so each part a user needs counts: with the
PRIP DB down, the object store down or the ingress not answering, a probe fails; back up,
probes succeed again. Real PostgreSQL and SeaweedFS servers of the test's own, stopped and
started; the API served by uvicorn over HTTP."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from prip_ray.bootstrap import Components
from prip_ray.config import Settings, StoreSettings, load_settings
from prip_ray.serve.app import create_app
from prip_ray.serve.wiring import api_services
from prip_ray.services.probe import UserJourneyProbe
from prip_ray.storage.s3 import S3ObjectStore
from tests.cheap_passwords import cheap_hash
from tests.fixtures.postgres import PrivatePostgres
from tests.fixtures.s3 import OwnS3
from tests.http_server import AppServer
from tests.samples import GRANULE, drop, sample
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


@pytest.fixture
def settings(private_pg: PrivatePostgres, own_s3: OwnS3, tmp_path: Path) -> Settings:
    s3 = own_s3.server.settings("probe", max_attempts=1)
    S3ObjectStore(s3).ensure_bucket()
    built = load_settings(
        data_dir=tmp_path / "prip", db={"url": private_pg.url}, ingest={"settle_s": 0}, environ={}
    )
    return built.model_copy(update={"store": StoreSettings(kind="s3", s3=s3)})


@pytest.fixture
def api(settings: Settings) -> Iterator[AppServer]:
    components = Components(settings)
    components.migrate()
    outcome = components.ingest.ingest(drop(sample(GRANULE), settings.inbox))
    assert outcome.status == "published", outcome.reason
    server = AppServer(create_app(api_services(components)))
    server.start()
    yield server
    server.stop()
    components.close()
    shutil.rmtree(settings.data_dir, ignore_errors=True)


@pytest.fixture
def probe(settings: Settings, api: AppServer) -> Iterator[UserJourneyProbe]:
    """The prober's own components, as the actor builds them in its process."""
    components = Components(settings)
    user = components.users.add("prober", cheap_hash("unused-pw"), "catalogue")

    def locate(product_id: UUID) -> str:
        return components.products.get(product_id).object_key

    def token() -> str:
        return components.tokens.issue(user).access_token

    yield UserJourneyProbe(api.url, token, locate, components.store, timeout_s=5)
    components.close()


def test_a_db_outage_fails_the_probe(probe: UserJourneyProbe, private_pg: PrivatePostgres) -> None:
    first = probe.probe()
    assert first.ok and first.detail is None, first.detail  # searched, and read bytes
    private_pg.stop()
    try:
        down = probe.probe()
        assert not down.ok and "503" in (down.detail or ""), down.detail
    finally:
        private_pg.start()
    wait_until(lambda: probe.probe().ok, 60, "a good probe once the DB is back")


def test_a_store_outage_fails_the_probe(probe: UserJourneyProbe, own_s3: OwnS3) -> None:
    assert probe.probe().ok
    own_s3.stop()
    try:
        down = probe.probe()
        assert not down.ok and "StorageError" in (down.detail or ""), down.detail
    finally:
        own_s3.start()
    wait_until(lambda: probe.probe().ok, 60, "a good probe once the store is back")


def test_an_ingress_failure_fails_the_probe(probe: UserJourneyProbe, api: AppServer) -> None:
    assert probe.probe().ok
    api.stop()
    down = probe.probe()
    assert not down.ok and "refused" in (down.detail or "").lower(), down.detail
    api.start()
    assert probe.probe().ok


def test_a_refused_login_fails_the_probe(probe: UserJourneyProbe, api: AppServer) -> None:
    """/health answers, yet a user who cannot sign in finds the PRIP unavailable."""
    with urllib.request.urlopen(api.url + "/health", timeout=5) as answer:
        assert answer.status == 200
    broken = UserJourneyProbe(api.url, lambda: "not-a-token", lambda _: None, None, 5)  # type: ignore[arg-type]
    failed = broken.probe()
    assert not failed.ok and "401" in (failed.detail or "")
