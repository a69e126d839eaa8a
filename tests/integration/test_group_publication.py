"""Products that finished QC published in groups: one transaction for the group, the same
guarantees as one product (real DB, real local store, real sample products)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, insert

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.db.rows import product_row
from prip_ray.db.tables import products
from prip_ray.services.ingest import IngestOutcome, ReadyProduct
from tests.samples import SAMPLES_DIR, drop

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))


def _prepare(components: Components, *sources: Path) -> list[ReadyProduct]:
    ready = [components.ingest.prepare(source) for source in sources]
    assert all(isinstance(r, ReadyProduct) for r in ready), ready
    return ready  # type: ignore[return-value]


def _statuses(outcomes: list[IngestOutcome]) -> list[str]:
    return [o.status for o in outcomes]


def _commits(engine: Engine) -> list[int]:
    """A counter of the transactions committed on ``engine`` from now on."""
    counted = [0]
    event.listen(engine, "commit", lambda _conn: counted.__setitem__(0, counted[0] + 1))
    return counted


def test_a_group_is_published_in_one_transaction(components: Components) -> None:
    sources = [drop(s, components.settings.inbox) for s in SAMPLES]
    ready = _prepare(components, *sources)
    assert all(components.products.by_name(s.name) is None for s in SAMPLES)  # not yet
    commits = _commits(components.engine)
    outcomes = components.ingest.publish(ready)
    assert _statuses(outcomes) == ["published"] * 3
    assert commits[0] == 1  # the journal rows are dropped in autocommit, not counted here
    for sample, source, r in zip(SAMPLES, sources, ready, strict=True):
        product = components.products.by_name(sample.name)
        assert product is not None and product.id == r.product.id
        assert b"".join(components.store.read(product.object_key)) == sample.read_bytes()
        assert not source.exists()
    assert components.ingest.journal.entries() == []


def test_a_name_taken_meanwhile_refuses_only_that_product(components: Components) -> None:
    """Another ingestor published one of the group's names between its QC and the group's
    commit: the group falls back to one by one; the loser deletes its own bytes."""
    sources = [drop(s, components.settings.inbox) for s in SAMPLES]
    ready = _prepare(components, *sources)
    winner = replace(ready[1].product, id=uuid.uuid4(), object_key="elsewhere/winner")
    with components.engine.begin() as conn:
        conn.execute(insert(products), [product_row(winner)])
    outcomes = components.ingest.publish(ready)
    assert _statuses(outcomes) == ["published", "rejected", "published"]
    assert "DuplicateProduct" in (outcomes[1].reason or "")
    assert components.store.size(ready[1].product.object_key) is None
    assert sorted(components.store.keys()) == sorted(
        r.product.object_key for r in (ready[0], ready[2])
    )
    [record] = components.ingest.quarantine.reasons()
    assert record["name"] == sources[1].name and record["code"] == "DuplicateProduct"
    found = components.products.by_name(sources[1].name)
    assert found is not None and found.id == winner.id
    assert not any(s.exists() for s in sources)


def test_the_same_name_twice_in_a_group_is_published_once(
    components: Components, tmp_path: Path
) -> None:
    """Two deliveries of one name prepared before either is published: the later attempt
    owns the journal row, the earlier one is left out (and retried), the others go."""
    first = drop(SAMPLES[0], tmp_path / "first")
    second = drop(SAMPLES[0], tmp_path / "second")
    other = drop(SAMPLES[1], components.settings.inbox)
    ready = [
        *_prepare(components, first),
        *_prepare(components, second),
        *_prepare(components, other),
    ]
    outcomes = components.ingest.publish(ready)
    assert _statuses(outcomes) == ["retry", "published", "published"]
    product = components.products.by_name(SAMPLES[0].name)
    assert product is not None and product.id == ready[1].product.id
    # The second attempt deleted the first one's bytes when it took the journal row over.
    assert sorted(components.store.keys()) == sorted(r.product.object_key for r in ready[1:])
    assert first.exists() and not second.exists()  # the retry finds it published
    assert components.ingest.ingest(first).status == "rejected"
    assert len(list(components.store.keys())) == 2


def test_a_crash_between_storing_and_the_group_commit(components: Components) -> None:
    """The shard dies with a group waiting: what recovery and the next attempt do."""
    kept, taken_back = (drop(s, components.settings.inbox) for s in SAMPLES[:2])
    lost = _prepare(components, kept, taken_back)  # bytes stored; the group is never committed
    taken_back.unlink()  # the production chain took this one back meanwhile
    ingest = components.ingest
    inbox = str(components.settings.inbox) + "/"
    resolved = ingest.recover(
        lambda _: True, lambda s: s.startswith(inbox), stale_after=timedelta(hours=1)
    )
    assert resolved == 1  # the attempt nobody will retry: its bytes are deleted
    assert components.store.size(lost[1].product.object_key) is None
    assert components.store.size(lost[0].product.object_key) is not None  # retried below
    assert ingest.ingest(kept).status == "published"
    assert components.store.size(lost[0].product.object_key) is None  # replaced, not doubled
    product = components.products.by_name(kept.name)
    assert product is not None
    assert list(components.store.keys()) == [product.object_key]
    assert components.products.by_name(taken_back.name) is None
    assert ingest.journal.entries() == []


@pytest.fixture
def pg_components(clean_pg: Engine, tmp_path: Path) -> Iterator[Components]:
    url = clean_pg.url.render_as_string(hide_password=False)
    built = Components(
        load_settings(data_dir=tmp_path / "prip", db={"url": url}, ingest={"settle_s": 0})
    )
    built.migrate()
    yield built
    built.close()


def test_the_db_going_away_mid_commit_loses_and_doubles_nothing(
    pg_components: Components,
) -> None:
    """PostgreSQL drops the publishing connection in the middle of the group's
    transaction: nothing of the group is published, every product retries, and the retries
    publish each exactly once with no stray bytes."""
    components = pg_components
    sources = [drop(s, components.settings.inbox) for s in SAMPLES]
    ready = _prepare(components, *sources)

    def cut(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO attributes"):  # after products and outbox rows
            pid = conn.connection.dbapi_connection.info.backend_pid
            url = components.engine.url.set(drivername="postgresql")
            with psycopg.connect(url.render_as_string(hide_password=False)) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    event.listen(components.engine, "before_cursor_execute", cut)
    try:
        outcomes = components.ingest.publish(ready)
    finally:
        event.remove(components.engine, "before_cursor_execute", cut)
    assert _statuses(outcomes) == ["retry"] * 3
    assert all(components.products.by_name(s.name) is None for s in SAMPLES)
    assert all(s.exists() for s in sources)
    again = [components.ingest.ingest(s) for s in sources]
    assert _statuses(again) == ["published"] * 3
    published = [components.products.by_name(s.name) for s in SAMPLES]
    assert sorted(components.store.keys()) == sorted(p.object_key for p in published if p)
    assert components.ingest.journal.entries() == []


def _statements(engine: Engine) -> list[str]:
    """The SQL statements run on ``engine`` from now on (an executemany counts once), but
    those of the quarantine's own records (each refusal writes one)."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        if "quarantine" not in args[2]:
            seen.append(args[2].split()[0])

    event.listen(engine, "before_cursor_execute", note)
    return seen


def test_a_bundle_is_prepared_with_one_look_up_and_one_journal_write(
    components: Components,
) -> None:
    """A QC worker given several products reads the PRIP DB once for them all and writes
    their journal rows in one statement; a refused or already published product among them
    keeps its own outcome and the others are still prepared."""
    inbox = components.settings.inbox
    assert components.ingest.ingest(drop(SAMPLES[2], inbox)).status == "published"
    corrupt = inbox / SAMPLES[0].name
    corrupt.write_bytes(SAMPLES[0].read_bytes()[:3000])  # a truncated gzip stream
    bundle = [drop(SAMPLES[1], inbox), corrupt, drop(SAMPLES[2], inbox)]
    statements = _statements(components.engine)
    prepared = components.ingest.prepare_all(bundle)
    assert statements == ["SELECT", "SELECT", "INSERT"]  # products, journal, journal rows
    ready, refused, duplicate = prepared
    assert isinstance(ready, ReadyProduct) and ready.product.name == SAMPLES[1].name
    assert isinstance(refused, IngestOutcome) and refused.status == "rejected"
    assert isinstance(duplicate, IngestOutcome) and duplicate.status == "rejected"
    assert "already published" in (duplicate.reason or "")
    assert components.store.size(ready.product.object_key) == SAMPLES[1].stat().st_size
    [entry] = components.ingest.journal.entries()
    assert (entry.name, entry.object_key, entry.state) == (
        ready.product.name,
        ready.product.object_key,
        "storing",
    )
    assert _statuses(components.ingest.publish([ready])) == ["published"]
