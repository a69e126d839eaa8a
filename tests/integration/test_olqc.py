"""OLQC reports linked to the products they inspect, in both arrival orders, on both DBs."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from benchmarks.day_mix import MIX, drop, olqc_status
from prip_ray.bootstrap import Components
from prip_ray.config import KpiSettings, load_settings
from prip_ray.db.eviction import EvictionRepository
from prip_ray.db.tables import olqc_awaited, outbox
from prip_ray.domain.olqc import FAILED_WITHDRAWAL, Tally
from prip_ray.domain.products import Product
from prip_ray.errors import ProductNotFound
from prip_ray.serve.app import basic_header
from prip_ray.services.ingest import IngestOutcome
from prip_ray.synthetic import make_product, write_olqc_report
from tests.fixtures.components import BuildComponents
from tests.samples import DATASTRIP, GRANULE, TILE, sample

ALICE = basic_header("alice", "alice-pw")
FIRST_REPORT = datetime(2025, 8, 1, 7, 40, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def offline_components(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Components]:
    """Components as conftest.py builds them, with ``olqc.on_failed: offline``."""
    db_url = None
    if request.param == "postgresql":
        db_url = request.getfixturevalue("clean_pg").url.render_as_string(hide_password=False)
    settings = load_settings(
        data_dir=tmp_path / "offline",
        db={"url": db_url},
        ingest={"settle_s": 0},
        olqc={"on_failed": "offline"},
    )
    built = Components(settings)
    built.migrate()
    yield built
    built.close()


class Reports:
    """Drops and ingests reports one second apart (report names carry their creation)."""

    def __init__(self, components: Components):
        self.components = components
        self.sent = 0

    def ingest(self, inspected: str, status: str) -> str:
        inbox = self.components.settings.inbox
        inbox.mkdir(parents=True, exist_ok=True)
        created = FIRST_REPORT + timedelta(seconds=self.sent)
        self.sent += 1
        path = write_olqc_report(inbox, inspected, status, created=created)
        outcome = self.components.ingest.ingest(path)
        assert outcome.status == "published", outcome.reason
        return path.name


def _publish(components: Components, stem: str) -> Product:
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    outcome = components.ingest.ingest(Path(shutil.copy(sample(stem), inbox / f"{stem}.tar")))
    assert outcome.status == "published", outcome.reason
    return _product(components, stem)


def _product(components: Components, stem: str) -> Product:
    product = components.products.by_name(f"{stem}.tar")
    assert product is not None
    return product


def _quality(product: Product) -> object:
    return next(a.value for a in product.attributes if a.name == "qualityStatus")


def test_a_report_after_its_product_updates_the_published_product(
    components: Components,
) -> None:
    published = _publish(components, GRANULE)
    assert _quality(published) == "NOMINAL"  # no report yet: from the name, as before
    report = Reports(components).ingest(GRANULE, "FAILED")
    flagged = _product(components, GRANULE)
    assert _quality(flagged) == "FAILED"
    assert flagged.modification_date > published.modification_date  # caches see the change
    assert flagged.online  # flag, the default, only flags
    found = components.products.by_name(report)
    assert found is not None
    attributes = {a.name: a.value for a in found.attributes}
    assert attributes["inspectedProduct"] == GRANULE
    assert attributes["globalStatus"] == "FAILED"
    assert attributes["productType"] == "REP_OLQCPA"


def test_a_report_before_its_product_applies_at_publication(components: Components) -> None:
    Reports(components).ingest(TILE, "ERROR")
    product = _publish(components, TILE)
    assert _quality(product) == "ERROR"
    assert product.modification_date == product.publication_date
    assert product.online


def test_products_wait_for_a_report_only_while_none_has_come(
    components: Components, built_components: BuildComponents
) -> None:
    """kpi.olqc_types: a product of those types published before its report is listed
    as waiting until the report comes; one whose report came first never is, nor is one
    of another type."""
    kpi = KpiSettings(olqc_types=["MSI_L0__GR", "MSI_L0__DS"])
    expecting = built_components(components.settings.model_copy(update={"kpi": kpi}))
    reports = Reports(expecting)
    reports.ingest(DATASTRIP, "PASSED")  # before its product
    for stem in (GRANULE, DATASTRIP, TILE):
        _publish(expecting, stem)
    assert _awaited(expecting) == [f"{GRANULE}.tar"]
    reports.ingest(GRANULE, "PASSED")
    assert _awaited(expecting) == []


def _awaited(components: Components) -> list[str]:
    with components.engine.connect() as conn:
        return list(conn.execute(select(olqc_awaited.c.name)).scalars())


def test_failed_wins_and_a_status_that_does_not_change_leaves_the_product_be(
    components: Components,
) -> None:
    reports = Reports(components)
    reports.ingest(GRANULE, "PASSED")
    product = _publish(components, GRANULE)
    assert _quality(product) == "PASSED"
    reports.ingest(GRANULE, "PASSED")
    assert _product(components, GRANULE).modification_date == product.modification_date
    reports.ingest(GRANULE, "ERROR")
    assert _quality(_product(components, GRANULE)) == "ERROR"
    reports.ingest(GRANULE, "FAILED")
    failed = _product(components, GRANULE)
    assert _quality(failed) == "FAILED"
    reports.ingest(GRANULE, "PASSED")
    reports.ingest(GRANULE, "ERROR")
    assert _product(components, GRANULE).modification_date == failed.modification_date
    assert _quality(_product(components, GRANULE)) == "FAILED"


def test_a_report_and_its_product_published_at_once_still_meet(
    components: Components, tmp_path: Path
) -> None:
    """Two shards, one publishing the product and one its report, at the same instant."""
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    stems = []
    for index in range(6):
        product = make_product(inbox, "granule", index, 1000).path
        stem = product.name.removesuffix(".tar")
        created = FIRST_REPORT + timedelta(seconds=index)
        report = write_olqc_report(inbox, stem, "FAILED", created=created)
        start = threading.Barrier(2)

        def ingest(path: Path, start: threading.Barrier = start) -> IngestOutcome:
            start.wait()
            return components.ingest.ingest(path)

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(ingest, [product, report]))
        assert [o.status for o in outcomes] == ["published"] * 2, outcomes
        stems.append(stem)
    assert [_quality(_product(components, stem)) for stem in stems] == ["FAILED"] * 6


def test_a_malformed_report_is_quarantined_with_its_reason(components: Components) -> None:
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    path = write_olqc_report(inbox, GRANULE, "PASSED", created=FIRST_REPORT)
    path.write_bytes(path.read_bytes().replace(b'globalStatus="PASSED"', b'globalStatus="FINE"'))
    outcome = components.ingest.ingest(path)
    assert outcome.status == "rejected"
    [record] = components.ingest.quarantine.reasons()
    assert record["code"] == "InvalidMetadata"
    assert "globalStatus='FINE' is not one of PASSED, FAILED, ERROR" in record["reason"]
    assert components.products.by_name(path.name) is None


def _events(components: Components, product: Product) -> list[str]:
    query = select(outbox.c.event).where(outbox.c.product_id == product.id).order_by(outbox.c.seq)
    with components.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def test_offline_withdraws_a_failed_product_in_either_order(
    offline_components: Components,
) -> None:
    reports = Reports(offline_components)
    _publish(offline_components, GRANULE)
    reports.ingest(GRANULE, "FAILED")
    reports.ingest(DATASTRIP, "FAILED")
    _publish(offline_components, DATASTRIP)
    reports.ingest(TILE, "ERROR")  # only FAILED withdraws
    _publish(offline_components, TILE)
    orphans = dict(EvictionRepository(offline_components.engine).orphans(10))
    for stem in (GRANULE, DATASTRIP):
        product = _product(offline_components, stem)
        assert (_quality(product), product.online) == ("FAILED", False)
        assert _events(offline_components, product) == ["created", "deleted"]
        assert orphans[product.id] == product.object_key  # the Roller's next sweep deletes
        entry = offline_components.deleted_products().get(product.id)
        assert entry.cause == FAILED_WITHDRAWAL and entry.cause.startswith("Withdrawn: ")
        assert (_quality(entry.product), entry.product.online) == ("FAILED", False)
    tile = _product(offline_components, TILE)
    assert (_quality(tile), tile.online) == ("ERROR", True)
    assert tile.id not in orphans
    with pytest.raises(ProductNotFound):
        offline_components.deleted_products().get(tile.id)


def _search(client: TestClient, query: str, **params: str) -> list[dict[str, Any]]:
    response = client.get("/odata/v1/Products", params={"$filter": query, **params}, headers=ALICE)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["value"]
    return found


def _attribute_is(name: str, value: str) -> str:
    return (
        f"Attributes/OData.CSC.StringAttribute/any(att:att/Name eq '{name}' "
        f"and att/OData.CSC.StringAttribute/Value eq '{value}')"
    )


def test_the_api_finds_failed_products_and_the_reports_on_a_product(
    components: Components, api: TestClient
) -> None:
    granule = f"{GRANULE}.tar"
    before = _search(api, f"Name eq '{granule}'", **{"$expand": "Attributes"})  # now cached
    assert {a["Name"]: a["Value"] for a in before[0]["Attributes"]}["qualityStatus"] == "NOMINAL"
    reports = Reports(components)
    first = reports.ingest(GRANULE, "PASSED")
    second = reports.ingest(GRANULE, "FAILED")
    reports.ingest(TILE, "PASSED")

    failed = _search(api, _attribute_is("qualityStatus", "FAILED"), **{"$expand": "Attributes"})
    assert [p["Name"] for p in failed] == [granule]
    assert {a["Name"]: a["Value"] for a in failed[0]["Attributes"]}["qualityStatus"] == "FAILED"
    entity = api.get(f"/odata/v1/Products({failed[0]['Id']})?$expand=Attributes", headers=ALICE)
    assert {a["Name"]: a["Value"] for a in entity.json()["Attributes"]}["qualityStatus"] == "FAILED"
    passed = _search(api, _attribute_is("qualityStatus", "PASSED"))
    assert [p["Name"] for p in passed] == [f"{TILE}.tar"]

    on_granule = _search(api, _attribute_is("inspectedProduct", GRANULE), **{"$orderby": "Name"})
    assert [p["Name"] for p in on_granule] == [first, second]
    failing = _search(
        api,
        f"{_attribute_is('inspectedProduct', GRANULE)} and {_attribute_is('globalStatus', 'FAILED')}",
    )
    assert [p["Name"] for p in failing] == [second]


def test_the_soaks_day_mix_reports_are_accepted_and_rate_the_granules(
    components: Components,
) -> None:
    """Four reports per granule, some before and some after it. Granule 7's report 31 is
    drawn FAILED, granule 94's report 378 ERROR, granule 0's four PASSED."""
    kinds = {kind.label: kind for kind in MIX}
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    granules = (0, 7, 94)
    reports = [4 * granule + k for granule in granules for k in range(4)]
    dropped = [drop(inbox, kinds["olqc"], index, 5000, 1.0) for index in reports[::2]]
    names = [drop(inbox, kinds["granule"], g, 18_000_000, 0.0001).name for g in granules]
    dropped += [drop(inbox, kinds["olqc"], index, 5000, 1.0) for index in reports[1::2]]
    for name in [d.name for d in dropped[:6]] + names + [d.name for d in dropped[6:]]:
        outcome = components.ingest.ingest(inbox / name)
        assert outcome.status == "published", outcome.reason
    expected = []
    for granule in granules:
        tally = Tally()
        for index in range(4 * granule, 4 * granule + 4):
            tally = tally.add(olqc_status(index))
        expected.append(tally.status)
    assert expected == ["PASSED", "FAILED", "ERROR"]
    assert [_quality(_product_named(components, name)) for name in names] == expected


def _product_named(components: Components, name: str) -> Product:
    product = components.products.by_name(name)
    assert product is not None
    return product
