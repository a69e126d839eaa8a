"""The Tracer and HKTM forwarder singletons on Ray, killed mid-batch while their downstream
goes away and comes back: afterwards every event is traced once and every HKTM product is at
FOS once, whole and in order."""

from __future__ import annotations

import time
from pathlib import Path

import ray

from prip_ray.actors.factory import start_hktm_forwarder, start_tracer
from prip_ray.bootstrap import Components
from prip_ray.config import FosSettings, Settings, TraceSettings
from tests.integration.test_hktm_forwarder import publish_hktm
from tests.pki import write_key_and_cert
from tests.sftp_server import PASSWORD, fos_server
from tests.traceability import TOKEN, trace_service
from tests.waiting import wait_until

PRODUCTS = 40


def test_tracer_killed_mid_batch_with_the_service_flapping(
    ray_settings: Settings, tmp_path: Path
) -> None:
    components = Components(ray_settings)
    components.migrate()
    names = publish_hktm(components, tmp_path, PRODUCTS, size=50_000)
    key, cert = write_key_and_cert(tmp_path / "pki")
    with trace_service() as service:
        settings = ray_settings.model_copy(
            update={
                "trace": TraceSettings(
                    url=service.url, token=TOKEN, signing_key=key, signing_cert=cert,
                    batch=5, retry_base_s=0.2, retry_max_s=1.0, poll_interval_s=0.2,
                )
            }
        )  # fmt: skip
        service.down = 3  # down at first
        tracer = start_tracer(settings)
        try:
            wait_until(lambda: service.count() >= 5, 60, "the first traces")
            ray.kill(tracer, no_restart=False)  # a crash in the middle of the queue
            service.down = 5  # and the service goes away again for a while
            wait_until(lambda: service.count() >= PRODUCTS, 90, "every trace after the restart")
            time.sleep(1.0)  # anything sent twice would arrive now
            stats = ray.get(tracer.stats.remote())
        finally:
            ray.kill(tracer)
    assert service.events() == {(name, "CREATE"): 1 for name in names}
    assert service.bad_signatures == 0
    assert stats["backlog"] == 0 and stats.get("done") == PRODUCTS
    components.close()


def test_hktm_forwarder_killed_mid_batch_with_fos_away_and_back(
    ray_settings: Settings, tmp_path: Path
) -> None:
    components = Components(ray_settings)
    components.migrate()
    with fos_server(tmp_path / "fos") as fos:
        settings = ray_settings.model_copy(
            update={
                "fos": FosSettings(
                    sftp_url=fos.url(), password=PASSWORD,
                    known_hosts=fos.write_known_hosts(tmp_path / "known_hosts"),
                    batch=5, retry_base_s=0.2, retry_max_s=1.0, poll_interval_s=0.2,
                )
            }
        )  # fmt: skip
        fos.stop()  # FOS is away when the products arrive
        names = publish_hktm(components, tmp_path, PRODUCTS, size=200_000)
        forwarder = start_hktm_forwarder(settings)
        try:
            wait_until(lambda: ray.get(forwarder.stats.remote())["backlog"] == PRODUCTS, 30)
            fos.start()
            wait_until(lambda: len(fos.renames) >= 5, 60, "the first deliveries")
            fos.cut_next = 1  # the connection drops in the middle of a transfer...
            ray.kill(forwarder, no_restart=False)  # ...and the forwarder crashes
            wait_until(lambda: len(fos.renames) >= PRODUCTS, 90, "every product at FOS")
            time.sleep(1.0)
            stats = ray.get(forwarder.stats.remote())
        finally:
            ray.kill(forwarder)
        delivered = {p: b for p, b in fos.files().items() if not p.startswith("hktm/.")}
    assert fos.renames == [f"/hktm/{n}" for n in names]  # each once, in publication order
    for name in names:
        product = components.products.by_name(name)
        assert product is not None
        assert delivered[f"hktm/{name}"] == b"".join(components.store.read(product.object_key))
    assert stats["backlog"] == 0
    components.close()
