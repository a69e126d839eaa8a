"""The names of prip-ray's Ray actors, in one place.

Operators and docs use these names (``ray list actors``, `ray.get_actor`), and several
modules look actors up by them: the factory that starts them, the ingest shards that wake
the outbox readers, the gateway directory, tests. Plain strings, no Ray: anything may
import this module without pulling in the actors themselves.
"""

from __future__ import annotations

NOTIFIER = "prip-notifier"
TRACER = "prip-tracer"
HKTM_FORWARDER = "prip-hktm-forwarder"
ROLLER = "prip-roller"
CATALOGUE_EXPORT = "prip-catalogue-export"
HISTORY_CLEANER = "prip-history-cleaner"
HEALTH_PROBE = "prip-health-probe"
GATEWAY_SUPERVISOR = "prip-gateway-supervisor"
SERVICE_HOST = "prip-services"  # the one actor that runs all of the above (service_host.py)
DOWNLOAD_GATEWAY = "prip-download-gateway"  # + "-<node id>": one per node
INGEST_SHARD = "prip-ingest-shard"  # + "-<k>": one per shard of the inbox

# The services above are not actors of their own but run in the service host; their names
# name their leases, metrics tags and log lines. The ones that read the outbox: a shard that
# published wakes them.
OUTBOX_READERS = (NOTIFIER, TRACER, HKTM_FORWARDER)


def shard_name(index: int) -> str:
    return f"{INGEST_SHARD}-{index}"


def gateway_name(node_id: str) -> str:
    return f"{DOWNLOAD_GATEWAY}-{node_id}"
