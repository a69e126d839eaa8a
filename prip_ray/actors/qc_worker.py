"""QcWorker: a Ray actor that prepares one product at a time (the CPU work: read, QC, hash;
then its bytes to the object store) for its shard to publish.

A thin shell over :class:`prip_ray.services.ingest.IngestService`; it builds its own DB
engine and object-store client from settings, once, in its own process.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.services.ingest import ReadyProduct


class QcWorker:
    def __init__(self, settings: Settings):
        self._components = Components(settings)

    def prepare(self, sources: list[str]) -> list[ReadyProduct | dict[str, Any]]:
        """Per product (an inbox path or S3 object), in order: ready to publish, or its
        outcome (rejected, retry, completed) as a dict."""
        prepared = self._components.ingest.prepare_all(sources)
        return [p if isinstance(p, ReadyProduct) else asdict(p) for p in prepared]

    def ping(self) -> bool:
        return True
