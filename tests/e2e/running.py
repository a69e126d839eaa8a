"""The PRIP running on the shared test Ray: ingestion shards plus the API on Serve, on a free
loopback port, torn down after the test."""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Iterator

import ray

from prip_ray.actors.factory import start_ingestion
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.serve.deployment import deploy, undeploy
from tests.cheap_passwords import cheap_hash

USER, PASSWORD = "lta", "lta-password"


# Ports for the servers a test starts, outside the kernel's ephemeral range (32768-60999),
# from which every outgoing connection takes its local port: a port bind(0) reported free
# could be such a connection's by the time Serve binds it ("Failed to bind" in a full run).
# Also clear of Ray's worker ports (10002-19999) and Serve's direct ingress (30000-31000).
TEST_PORTS = range(20000, 30000)


def free_port() -> int:
    while True:
        port = random.choice(TEST_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def free_port_pair() -> int:
    """A free port whose next one is free too: ``prip-ray up``'s API port (its download
    gateway takes the next)."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port


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
