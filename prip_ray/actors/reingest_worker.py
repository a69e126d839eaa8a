"""ReingestWorker: one of the actors a bulk re-ingestion job spreads its products over.

Each builds its own engine, store client and source reader once (nothing shipped through
Ray) and re-ingests the names it is handed."""

from __future__ import annotations

from typing import Any

from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.services.reingest import Reingester
from prip_ray.storage.sources import open_source


class ReingestWorker:
    def __init__(self, settings: Settings, source_uri: str):
        components = Components(settings)
        self._reingester = Reingester(
            open_source(source_uri, settings.store.s3),
            components.ingest,
            components.products,
            settings.work_dir / "reingest",
        )

    def reingest(self, name: str) -> dict[str, Any]:
        return self._reingester.reingest(name).as_dict()
