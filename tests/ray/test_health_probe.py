"""The availability prober records the API up, then down, in the PRIP DB."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ray

from prip_ray.actors.factory import start_health_probe
from prip_ray.bootstrap import Components
from prip_ray.config import ApiSettings, Settings
from prip_ray.db.kpi import KpiRepository
from tests.waiting import wait_until


class Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_probes_see_the_api_go_down(ray_settings: Settings) -> None:
    components = Components(ray_settings)
    components.migrate()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/health"
    api = ApiSettings(probe_url=url, probe_interval_s=0.2)
    prober = start_health_probe(ray_settings.model_copy(update={"api": api}))
    probes = KpiRepository(components.engine)
    window = (datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(hours=1))
    try:
        wait_until(lambda: sum(ok for _, ok in probes.probes(*window)) >= 3, 30, "probes ok")
        server.shutdown()
        server.server_close()
        wait_until(lambda: any(not ok for _, ok in probes.probes(*window)), 30, "a failed probe")
    finally:
        ray.kill(prober)
    report = components.kpi().report(*window)
    assert 0 < report["availability"]["ratio"] < 1
    components.close()
