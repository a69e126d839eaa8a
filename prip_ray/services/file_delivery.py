"""A product delivered as a file or a PDI folder on this disk (the inbox folder, or a path
given to ``prip-ray ingest``).

Links are never followed (``refuse_links``); a folder is packed as a tar in scratch space
and that tar is what QC reads and the store gets.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prip_ray.domain.package import Package
from prip_ray.pdi import published_name, refuse_links, remove_source, write_folder_as_tar
from prip_ray.ports import ObjectStore, Quarantine


@dataclass(frozen=True)
class FileDelivery:
    path: Path
    quarantine_to: Quarantine
    work_dir: Path
    accept_hardlinks: bool = False

    @property
    def source(self) -> str:
        return str(self.path)

    @property
    def published_name(self) -> str:
        return published_name(self.path)

    def package(self, scratch: ExitStack) -> Package:
        refuse_links(self.path, accept_hardlinks=self.accept_hardlinks)
        if not self.path.is_dir():
            return self.path
        self.work_dir.mkdir(parents=True, exist_ok=True)
        folder = scratch.enter_context(tempfile.TemporaryDirectory(dir=self.work_dir))
        return write_folder_as_tar(
            self.path,
            Path(folder) / self.published_name,
            accept_hardlinks=self.accept_hardlinks,
        )

    def modified(self) -> datetime:
        return datetime.fromtimestamp(self.path.stat().st_mtime, UTC)

    def store_into(self, store: ObjectStore, key: str, package: Package) -> None:
        assert isinstance(package, Path)  # what package() gives
        store.put_file(key, package)

    def exists(self) -> bool:
        return os.path.lexists(self.path)

    def remove(self) -> None:
        remove_source(self.path)

    def quarantine(self, reason: str, code: str, *, move: bool) -> None:
        self.quarantine_to.put(self.path, reason, code, move=move)
