"""QcWorker: a Ray actor that ingests one product at a time (the CPU work: read, QC, hash).

A thin shell over :class:`prip_ray.services.ingest.IngestService`; it builds its own DB
engine and object-store client from settings, once, in its own process.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from prip_ray.bootstrap import Components
from prip_ray.config import Settings


class QcWorker:
    def __init__(self, settings: Settings):
        self._components = Components(settings)

    def ingest(self, path: str, remove: bool = True) -> dict[str, Any]:
        outcome = self._components.ingest.ingest(Path(path), remove=remove)
        return asdict(outcome)

    def ping(self) -> bool:
        return True
