"""The download gateway's HTTP app under a real uvicorn and real HTTP clients (no Ray): a
client that goes away gives its parallel slot back at once, and an optional per-connection
bandwidth cap paces the bytes."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.users import QuotaOverrides
from prip_ray.serve.gateway import create_gateway_app
from prip_ray.serve.wiring import api_services
from prip_ray.synthetic import make_product
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app on a free loopback port, in a thread of this process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _components(build: BuildComponents, clean_pg: Engine, tmp_path: Path, **api: Any) -> Components:
    url = clean_pg.url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path / "prip", db={"url": url}, api=api)
    components = build(settings)
    components.migrate()
    components.users.add("lta", cheap_hash("lta-pw"), "download")
    return components


def _publish(components: Components, tmp_path: Path, size: int) -> tuple[str, bytes]:
    product = make_product(tmp_path, "granule", 0, size)
    outcome = components.ingest.ingest(product.path, remove=False)
    assert outcome.status == "published", outcome.reason
    return str(outcome.product_id), product.path.read_bytes()


def _ticket_url(components: Components, base: str, product_id: str) -> str:
    user = components.users.get("lta")
    assert user is not None
    return f"{base}/download/{components.tokens.issue_ticket(user, product_id)}"


def test_a_client_that_goes_away_frees_its_slot_within_two_seconds(
    clean_pg: Engine, tmp_path: Path, built_components: BuildComponents
) -> None:
    components = _components(built_components, clean_pg, tmp_path)
    components.users.set_quotas("lta", QuotaOverrides(max_parallel=1))
    user = components.users.get("lta")
    assert user is not None
    product_id, _ = _publish(components, tmp_path, 32 * 1024 * 1024)  # beyond socket buffers
    waits = []
    with serving(create_gateway_app(api_services(components))) as base:
        for attempt in range(4):
            # The one slot is free, so this download is admitted at once; then its client
            # goes away mid-stream, at once or after reading a little.
            with (
                httpx.Client(timeout=30) as client,
                client.stream("GET", _ticket_url(components, base, product_id)) as got,
            ):
                assert got.status_code == 200, (attempt, waits)
                chunks = got.iter_raw(65536)  # kept: dropping it closes the connection
                if attempt % 2:
                    next(chunks)
                busy = client.get(_ticket_url(components, base, product_id))
                assert busy.status_code == 429, (attempt, waits)
            gone = time.monotonic()
            while components.quotas.usage(user).active_downloads and time.monotonic() - gone < 10:
                time.sleep(0.05)
            waits.append(time.monotonic() - gone)
    records = [(r.status, r.bytes_sent) for r in components.downloads.recent("lta")]
    assert max(waits) < 2.0, (waits, records)
    assert [status for status, _ in records] == ["aborted"] * 4


def test_a_capped_download_takes_at_least_its_size_over_the_cap(
    clean_pg: Engine, tmp_path: Path, built_components: BuildComponents
) -> None:
    cap_mb_s = 2.0
    components = _components(
        built_components, clean_pg, tmp_path, download_rate_limit_mb_s=cap_mb_s
    )
    product_id, content = _publish(components, tmp_path, 3 * 1000 * 1000)
    with serving(create_gateway_app(api_services(components))) as base:
        started = time.monotonic()
        response = httpx.get(_ticket_url(components, base, product_id), timeout=60)
        took = time.monotonic() - started
    assert response.status_code == 200
    assert hashlib.md5(response.content).digest() == hashlib.md5(content).digest()
    floor = len(content) / (cap_mb_s * 1e6)
    assert floor <= took < floor + 5, (floor, took)
