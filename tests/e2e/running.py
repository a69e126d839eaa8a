"""The PRIP running on the shared test Ray: ingestion shards plus the API on Serve, on a free
loopback port, torn down after the test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ray

from benchmarks.launched_up import free_port
from prip_ray.actors.factory import start_ingestion
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.serve.deployment import deploy, undeploy
from tests.cheap_passwords import cheap_hash

USER, PASSWORD = "lta", "lta-password"


@contextlib.contextmanager
def running_prip(settings: Settings) -> Iterator[tuple[str, Components]]:
    """Yields the OData base URL and the test's own components (a user ``lta`` exists)."""
    settings.api.port = free_port()
    with contextlib.closing(Components(settings)) as components:
        components.migrate()
        components.users.add(USER, cheap_hash(PASSWORD), "download")
        shards = start_ingestion(settings)
        try:  # a deploy that fails must not leave the shards to the next test (same names)
            yield deploy(settings), components
        finally:
            undeploy()
            for shard in shards:
                ray.kill(shard)
