"""The inbox (a local or shared folder the production chain drops products into) and the
quarantine folder where rejected products wait, each with the reason it was refused.

Links are never followed: a symbolic link in the inbox (to ``token-key.pem``, to a folder,
to nowhere) is listed like a file and refused by :func:`refuse_links`, and the quarantine
moves or copies the link itself. A hard link cannot be told from its original, so a file
with more than one name is refused too unless the operator accepts hard links.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from prip_ray.pdi import published_name as published_name
from prip_ray.pdi import refuse_links as refuse_links
from prip_ray.pdi import remove_source as remove_source
from prip_ray.ports.inbox import InboxItem as InboxItem

# Names the production chain uses while a file is still being written.
_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".filepart", ".crdownload")


class LocalInbox:
    """Lists products that are complete: not hidden, not in progress, unchanged for a while."""

    def __init__(self, root: Path, settle_s: float = 2.0):
        self.root = root
        self._settle_s = settle_s
        root.mkdir(parents=True, exist_ok=True)

    def ready(self, wanted: Callable[[str], bool] = lambda published_name: True) -> list[InboxItem]:
        """Settled products whose published name is ``wanted`` (a shard's own), oldest first
        (modification time, then name): the order a timeliness KPI wants them in. One
        directory scan: entries come with their type, and only wanted ones are stat'ed, so a
        shard of a busy inbox does not stat every other shard's files too."""
        now = time.time()
        items = []
        with os.scandir(self.root) as entries:
            for entry in entries:
                if _in_progress(entry.name):
                    continue
                try:
                    # A link is listed as a file (the ingestor quarantines it), even one
                    # that points nowhere: following it would hide it or read its target.
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if not wanted(entry.name + ".tar" if is_dir else entry.name):
                        continue
                    path = Path(entry.path)
                    found = None if is_dir else entry.stat(follow_symlinks=False)
                    modified = _newest_mtime(path) if found is None else found.st_mtime
                except FileNotFoundError:  # taken by someone else meanwhile
                    continue
                if now - modified >= self._settle_s:
                    changed = datetime.fromtimestamp(modified, UTC)
                    size = 0 if found is None else found.st_size
                    items.append(InboxItem(entry.name, entry.path, changed, is_dir, size))
        return sorted(items, key=lambda item: (item.modified, item.name))

    def __contains__(self, path: Path) -> bool:
        return path.parent.resolve() == self.root.resolve()

    def holds(self, source: str) -> bool:
        return source.startswith(str(self.root) + "/")

    def source_of(self, name: str) -> str:
        return str(self.root / name)


def _in_progress(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(_IN_PROGRESS_SUFFIXES)


def _newest_mtime(path: Path) -> float:
    """lstat: a dangling link inside a PDI folder must not hide the folder for ever."""
    if not path.is_dir():
        return path.lstat().st_mtime
    return max((p.lstat().st_mtime for p in _walk(path)), default=path.lstat().st_mtime)


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(folder):
        yield Path(dirpath)
        for file in files:
            yield Path(dirpath, file)


class LocalQuarantine:
    """Rejected products, each beside a ``<name>.reason.json`` that says why."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def put(self, source: Path, reason: str, code: str, *, move: bool = True) -> Path:
        target = self._free_target(source.name)
        if move:
            self._move(source, target)
        elif source.is_symlink():
            shutil.copy2(source, target, follow_symlinks=False)  # the link, not its target
        elif source.is_dir():
            shutil.copytree(source, target)
        elif source.is_file():  # a FIFO or a device holds nothing to keep
            shutil.copy2(source, target)
        record = {
            "name": source.name,
            "source": str(source),
            "code": code,
            "reason": reason,
            "quarantined_at": datetime.now(UTC).isoformat(),
        }
        Path(f"{target}.reason.json").write_text(json.dumps(record, indent=2) + "\n")
        return target

    @staticmethod
    def _move(source: Path, target: Path) -> None:
        """A link is moved as a link. A FIFO cannot be copied to another file system (nor
        read: it would block), and holds no data: it is removed, its reason kept."""
        try:
            shutil.move(str(source), target)
        except shutil.SpecialFileError:
            source.unlink()

    def reasons(self) -> list[dict[str, str]]:
        return [json.loads(p.read_text()) for p in sorted(self.root.glob("*.reason.json"))]

    def _free_target(self, name: str) -> Path:
        target = self.root / name
        if not target.exists():
            return target
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        return self.root / f"{name}.{stamp}"
