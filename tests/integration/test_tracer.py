"""The Tracer against real databases, the real stores and a real traceability receiver on
loopback that verifies every signature: each event traced once, through outages, crashes
and refusals; `verify` catches changed bytes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import blake3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, Settings, TraceSettings, load_settings
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.db.tables import trace_digests
from prip_ray.domain.backoff import Backoff
from prip_ray.domain.hashing import hash_product
from prip_ray.domain.traces import trace_product
from prip_ray.services.trace import Tracer, TraceRound
from prip_ray.storage.traceability import TraceabilityClient
from tests.fixtures.components import BuildComponents
from tests.pki import write_key_and_cert
from tests.samples import SAMPLES_DIR, drop
from tests.traceability import TOKEN, TraceService, trace_service
from tests.waiting import wait_until

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
NAMES = sorted(s.name for s in SAMPLES)
LATER = datetime.now(UTC) + timedelta(days=8)


@pytest.fixture
def service() -> Iterator[TraceService]:
    with trace_service() as running:
        yield running


def traced(
    build: BuildComponents,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    **trace: Any,
) -> Components:
    key, cert = write_key_and_cert(tmp_path / "pki", trace.pop("kind", "rsa"))
    settings: Settings = components.settings.model_copy(
        update={
            "trace": TraceSettings(
                url=service.url, token=TOKEN, signing_key=key, signing_cert=cert, **trace
            )
        }
    )
    return build(settings)


def fast(components: Components, **overrides: Any) -> Tracer:
    return components.tracer(backoff=Backoff(0.01, 0.05), **overrides)


def test_every_publication_is_traced_once_with_a_verified_signature(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    tracer = fast(traced(built_components, components, service, tmp_path))
    assert tracer.run_once().sent == 3
    assert tracer.run_once().sent == 0  # nothing twice
    assert service.events() == {(name, "CREATE"): 1 for name in NAMES}
    assert service.bad_signatures == 0
    for trace in service.traces:
        product = components.products.by_name(trace["product"]["name"])
        assert product is not None
        stored = b"".join(components.store.read(product.object_key))
        assert trace["hash_algorithm"] == "BLAKE3"
        assert trace["product"]["hash"] == blake3.blake3(stored).hexdigest()
        assert trace["product"]["size"] == len(stored)
        assert trace["signature"]["algorithm"] == "RSA-SHA256"
        paths = [c["path"] for c in trace["product"]["contents"]]
        assert any(p.endswith("Inventory_Metadata.xml") for p in paths)
    assert DeliveryQueue(components.engine, "trace").counts() == {"done": 3}


def test_ecdsa_key_and_sha3(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    tracer = fast(
        traced(built_components, components, service, tmp_path, kind="ec", hash_algorithm="SHA3")
    )
    assert tracer.run_once().sent == 3
    assert {t["signature"]["algorithm"] for t in service.traces} == {"ECDSA-SHA256"}
    assert {t["hash_algorithm"] for t in service.traces} == {"SHA3"}
    assert service.bad_signatures == 0


def test_service_down_then_up_loses_and_doubles_nothing(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    tracer = fast(traced(built_components, components, service, tmp_path))
    service.down = 4
    first = tracer.run_once()
    assert (first.sent, first.failed) == (0, 3)
    wait_until(lambda: tracer.run_once() is not None and service.count() == 3, 10, "traces")
    assert service.events() == {(name, "CREATE"): 1 for name in NAMES}


def test_a_down_service_pauses_the_queue_after_a_wave_of_failures(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    """Per-trace backoff must not turn into trying every trace while the service is away:
    when a whole wave fails, the queue waits (one at a time here: a wave is 2 traces, so
    the third due is not tried)."""
    moment = [0.0]
    start = datetime.now(UTC)
    tracer = traced(built_components, components, service, tmp_path).tracer(
        concurrency=1,
        backoff=Backoff(5.0, 10.0),
        clock=lambda: moment[0],
        now=lambda: start + timedelta(seconds=moment[0]),
    )
    service.down = 100
    assert tracer.run_once().failed == 2
    assert tracer.run_once() == TraceRound()  # paused: nothing attempted
    assert service.requests == 2
    service.down = 0
    moment[0] = 11.0
    assert tracer.run_once().sent == 3
    assert service.events() == {(name, "CREATE"): 1 for name in NAMES}


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_restart_after_the_put_does_not_send_again(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    concurrency: int,
    built_components: BuildComponents,
) -> None:
    """Every trace in flight when the process dies reached the service: each is found
    there after the restart, none is sent twice (one at a time: only the first)."""

    class DiesAfterPut(TraceabilityClient):
        def put(self, trace: dict[str, Any]) -> None:
            super().put(trace)
            raise KeyboardInterrupt  # the process dies before recording the delivery

    with_service = traced(built_components, components, service, tmp_path)
    client = DiesAfterPut(service.url, TOKEN)
    with pytest.raises(KeyboardInterrupt):
        fast(with_service, client=client, concurrency=concurrency).run_once()
    reached = service.count()
    assert reached == min(concurrency, 3)
    restarted = fast(with_service).run_once()
    assert (restarted.recovered, restarted.sent) == (reached, 3 - reached)
    assert service.events() == {(name, "CREATE"): 1 for name in NAMES}


def test_a_refusal_is_recorded_and_not_retried(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    service.refuse = {NAMES[0]}
    tracer = fast(traced(built_components, components, service, tmp_path))
    first = tracer.run_once()
    assert (first.sent, first.refused) == (2, 1)
    assert tracer.run_once().refused == 0
    (refused,) = [
        d
        for d in DeliveryQueue(components.engine, "trace").of_products(NAMES)
        if d.state == "refused"
    ]
    assert refused.product_name == NAMES[0]
    assert service.requests == 3


def test_eviction_is_traced_as_delete_with_the_create_hash(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    tracer = fast(traced(built_components, components, service, tmp_path))
    tracer.run_once()
    assert len(components.roller(now=lambda: LATER).run_once().evicted) == 3
    assert tracer.run_once().sent == 3
    events = service.events()
    assert all(events[(name, "DELETE")] == 1 for name in NAMES)
    by_event = {(t["product"]["name"], t["event"]): t["product"]["hash"] for t in service.traces}
    assert all(by_event[(n, "CREATE")] == by_event[(n, "DELETE")] for n in NAMES)


def test_withdrawal_is_traced_as_delete(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    tracer = fast(traced(built_components, components, service, tmp_path))
    tracer.run_once()
    components.withdrawer().withdraw_name(NAMES[0], "wrong processing baseline")
    components.withdrawer().withdraw_name(NAMES[0], "again")  # idempotent: no second event
    assert tracer.run_once().sent == 1
    assert service.events()[(NAMES[0], "DELETE")] == 1
    assert (NAMES[1], "DELETE") not in service.events()


def test_traces_certify_the_ingest_digests_without_reading_the_bytes(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    """Ingestion hashed the bytes for the trace: with every stored object deleted after
    publication, each product still gets its full trace, per-file hashes included."""
    for name in NAMES:
        product = components.products.by_name(name)
        assert product is not None
        components.store.delete(product.object_key)
        assert components.store.size(product.object_key) is None
    tracer = fast(traced(built_components, components, service, tmp_path))
    assert tracer.run_once().sent == 3
    assert service.bad_signatures == 0
    for trace in service.traces:
        assert trace["product"] == _expected(trace["product"]["name"], "BLAKE3")


def test_products_published_without_digests_are_hashed_from_their_bytes(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    """Products published before migration 0012 have no stored digests: their trace comes
    from their stored bytes, as before; an evicted one falls back to its checksums."""
    with components.engine.begin() as conn:
        conn.execute(delete(trace_digests))
    evicted = components.products.by_name(NAMES[2])
    assert evicted is not None
    components.store.delete(evicted.object_key)
    tracer = fast(traced(built_components, components, service, tmp_path))
    assert tracer.run_once().sent == 3
    by_name = {t["product"]["name"]: t["product"] for t in service.traces}
    for name in NAMES[:2]:
        assert by_name[name] == _expected(name, "BLAKE3")
    assert by_name[NAMES[2]]["hash"] == _expected(NAMES[2], "BLAKE3")["hash"]
    assert by_name[NAMES[2]]["contents"] == []  # the checksums hold no per-file hashes


def test_one_failing_trace_does_not_hold_the_others(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    """The service fails the oldest product's traces (500): the others are delivered at
    once, CREATE and DELETE; the failing product's DELETE waits for its CREATE, and both
    get there, once, when the service takes them again."""
    service.fail = {NAMES[0]}
    tracer = fast(traced(built_components, components, service, tmp_path))
    first = tracer.run_once()
    assert (first.sent, first.failed) == (2, 1)
    assert set(service.events()) == {(name, "CREATE") for name in NAMES[1:]}
    assert len(components.roller(now=lambda: LATER).run_once().evicted) == 3
    wait_until(lambda: tracer.run_once() is not None and service.count() == 4, 10, "deletes")
    assert (NAMES[0], "DELETE") not in service.events()
    service.fail.clear()
    wait_until(lambda: tracer.run_once() is not None and service.count() == 6, 10, "traces")
    assert service.events() == {(n, e): 1 for n in NAMES for e in ("CREATE", "DELETE")}
    order = [(t["product"]["name"], t["event"]) for t in service.traces]
    assert order.index((NAMES[0], "CREATE")) < order.index((NAMES[0], "DELETE"))
    assert DeliveryQueue(components.engine, "trace").counts() == {"done": 6}


def test_traces_are_sent_concurrently_within_the_bound(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    service.delay_s = 0.3
    tracer = fast(traced(built_components, components, service, tmp_path), concurrency=2)
    assert tracer.run_once().sent == 3
    assert service.most_in_flight == 2
    assert service.events() == {(name, "CREATE"): 1 for name in NAMES}


def _expected(name: str, algorithm: str) -> dict[str, Any]:
    """The trace's product fields computed here from the sample file itself."""
    with (SAMPLES_DIR / name).open("rb") as f:
        hashes = hash_product(iter(lambda: f.read(1 << 16), b""), algorithm)
    assert hashes.contents  # the samples are tars: per-file hashes are part of the trace
    return trace_product(name, hashes)


def test_verify_finds_changed_bytes(
    api: TestClient,
    components: Components,
    service: TraceService,
    tmp_path: Path,
    built_components: BuildComponents,
) -> None:
    with_service = traced(built_components, components, service, tmp_path)
    tracer = fast(with_service)
    tracer.run_once()
    assert all(tracer.verify(name).ok for name in NAMES)
    assert tracer.verify(NAMES[0]).source == "traceability service"
    product = components.products.by_name(NAMES[0])
    assert product is not None
    path = components.settings.store_root / product.object_key
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # flip a bit in the tar's padding: the whole hash changes
    path.write_bytes(bytes(data))
    result = tracer.verify(NAMES[0])
    assert not result.ok and any("hash" in p for p in result.problems)
    assert not tracer.verify("S2B_NOT_A_PRODUCT").ok


@pytest.mark.s3
def test_traces_of_products_in_s3(
    tmp_path: Path,
    s3_settings: S3Settings,
    service: TraceService,
    built_components: BuildComponents,
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "prip",
        store={
            "kind": "s3",
            "s3": s3_settings.model_copy(update={"prefix": "traced/"}).model_dump(),
        },
        ingest={"settle_s": 0},
    )
    components = built_components(settings)
    components.migrate()
    for source in SAMPLES:
        assert components.ingest.ingest(drop(source, settings.inbox)).status == "published"
    tracer = fast(traced(built_components, components, service, tmp_path))
    assert tracer.run_once().sent == 3
    assert all(tracer.verify(name).ok for name in NAMES)


def test_cli_trace_verify_with_the_operator_env_names(
    tmp_path: Path,
    service: TraceService,
    monkeypatch: pytest.MonkeyPatch,
    built_components: BuildComponents,
) -> None:
    from typer.testing import CliRunner

    from prip_ray.cli import app

    key, cert = write_key_and_cert(tmp_path / "pki", "ec")
    for variable, value in {
        "PRIP_TRACE_URL": service.url, "PRIP_TRACE_TOKEN": TOKEN,
        "PRIP_SIGNING_KEY": str(key), "PRIP_SIGNING_CERT": str(cert),
    }.items():  # fmt: skip
        monkeypatch.setenv(variable, value)
    data = tmp_path / "prip"
    components = built_components(load_settings(data_dir=data, ingest={"settle_s": 0}))
    components.migrate()
    for source in SAMPLES:
        assert (
            components.ingest.ingest(drop(source, components.settings.inbox)).status == "published"
        )
    assert fast(components).run_once().sent == 3
    runner = CliRunner()
    good = runner.invoke(app, ["trace", "verify", NAMES[1], "--data-dir", str(data)])
    assert good.exit_code == 0, good.output
    assert "OK" in good.output
    product = components.products.by_name(NAMES[1])
    assert product is not None
    (components.settings.store_root / product.object_key).write_bytes(b"not the product")
    bad = runner.invoke(app, ["trace", "verify", NAMES[1], "--data-dir", str(data)])
    assert bad.exit_code == 1 and "MISMATCH" in bad.output
