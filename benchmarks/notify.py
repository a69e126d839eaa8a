"""Notification throughput and delay: products published at a steady rate, subscriptions
matching them, a real HTTP receiver on loopback; prints notifications/s and the p50/p95
delay from publication to receipt.

    .venv/bin/python -m benchmarks.notify --subscriptions 200 --products 2000 --rate 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import insert

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.db.rows import attribute_rows, product_row
from prip_ray.db.tables import attributes, outbox, products
from prip_ray.domain.products import NEVER, Checksum, Product, TimeRange


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="products published per second")
    parser.add_argument("--db-url", default=None, help="default: SQLite in a temp folder")
    args = parser.parse_args()
    received: list[float] = []
    lock = threading.Lock()
    server = _receiver(received, lock)
    url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    settings = load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="prip-bench-notify-")),
        db={"url": args.db_url},
        subscriptions={"allowed_networks": ["127.0.0.0/8"]},  # the receiver is on loopback
    )
    components = Components(settings)
    components.migrate()
    for k in range(args.subscriptions):  # subscription k hears of products numbered ...k
        components.subscriptions.create(
            owner="bench", event="created", filter_param=f"endswith(Name,'_{k:05d}.tar')",
            endpoint=url, username=None, sealed_password=None, now=datetime.now(UTC),
        )  # fmt: skip
    notifier = components.notifier()
    stop = threading.Event()

    def deliver() -> None:
        while not stop.is_set():
            if notifier.run_once() == 0:
                time.sleep(0.05)

    worker = threading.Thread(target=deliver)
    worker.start()
    started = time.monotonic()
    for index in range(args.products):
        _publish(components, index % args.subscriptions)
        time.sleep(max(0.0, started + (index + 1) / args.rate - time.monotonic()))
    deadline = time.monotonic() + 120
    while len(received) < args.products and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    stop.set()
    worker.join()
    notifier.close()
    server.shutdown()
    delays = sorted(received)
    p95 = statistics.quantiles(delays, n=20)[18] if len(delays) > 1 else float("nan")
    print(
        f"{len(delays)}/{args.products} notifications to {args.subscriptions} subscriptions in "
        f"{elapsed:.1f} s ({len(delays) / elapsed:.0f}/s); publication -> receipt "
        f"p50 {statistics.median(delays) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )


def _publish(components: Components, k: int) -> None:
    now = datetime.now(UTC)
    product = Product(
        id=uuid.uuid4(), name=f"S2B_OPER_MSI_L0__GR_{uuid.uuid4().hex[:8]}_{k:05d}.tar",
        product_type="MSI_L0__GR", content_type="application/octet-stream", content_length=1,
        origin_date=now, publication_date=now, eviction_date=NEVER, modification_date=now,
        content_date=TimeRange(now, now + timedelta(seconds=1)), object_key="x",
        checksums=(Checksum("MD5", "0" * 32, now),),
    )  # fmt: skip
    with components.engine.begin() as conn:
        conn.execute(insert(products), [product_row(product)])
        conn.execute(insert(attributes), attribute_rows(product))
        conn.execute(insert(outbox).values(product_id=product.id, event="created", created_at=now))


def _receiver(received: list[float], lock: threading.Lock) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            published = datetime.fromisoformat(
                body["value"]["PublicationDate"].replace("Z", "+00:00")
            )
            with lock:
                received.append((datetime.now(UTC) - published).total_seconds())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    main()
