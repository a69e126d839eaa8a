"""Quarantine for operators: the refused products, as rows in the PRIP DB and as files in
the quarantine folder (each beside its ``.reason.json``, storage/inbox.py).

Files first, then the row: ``RecordedQuarantine.put`` moves the product in and writes its
reason, then records the entry (a name refused again replaces its older bytes); ``retry``
and ``purge`` delete the reason, move the bytes back to the inbox or delete them, then drop
the row. A crash between leaves a reason without its row or a row with neither bytes nor
reason: ``reconcile``, run by every Roller round, settles both, and imports refusals
quarantined before the DB kept them. A refused link stays a link (its target is never read,
sized or deleted), and a refused FIFO has a reason but no bytes (storage/inbox.py).

Refusals of an S3 inbox live in its quarantine prefix (storage/s3_inbox.py), their rows
located by ``s3://bucket/key``: the same rows, retried, purged and settled through the
inbox's :class:`QuarantinedObjects` rather than the file system.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from prip_ray.domain.quarantine import QuarantineEntry
from prip_ray.errors import InvalidQuery, ProductNotFound, StorageError
from prip_ray.ports import QuarantineRecords
from prip_ray.storage.inbox import LocalQuarantine

log = logging.getLogger(__name__)
REASON = ".reason.json"
OBJECT = "s3://"  # how the location of an S3 inbox's refusal starts


class QuarantinedObjects(Protocol):
    """Refusals of an S3 inbox, by location (``s3://bucket/key``)."""

    def exists(self, location: str) -> bool: ...

    def remove(self, location: str) -> None:
        """Delete the object and its reason; gone is fine."""
        ...

    def restore(self, location: str, name: str) -> str:
        """Move it back into the inbox as ``name``, its reason deleted; where it went."""
        ...

    def held(self) -> dict[str, tuple[int, bool]]:
        """Every refusal, from one listing: location -> (bytes held, whether its reason is
        there)."""
        ...

    def reason(self, location: str) -> dict[str, Any]:
        """The record written beside the refusal at ``location``."""
        ...


class RecordedQuarantine(LocalQuarantine):
    """The quarantine folder, each refusal also recorded in the DB; ``objects``: the S3
    inbox's quarantine prefix, when the inbox is one."""

    def __init__(
        self,
        root: Path,
        repository: QuarantineRecords,
        objects: QuarantinedObjects | None = None,
    ):
        super().__init__(root)
        self.repository = repository
        self.objects = objects

    def put(self, source: Path, reason: str, code: str, *, move: bool = True) -> Path:
        target = super().put(source, reason, code, move=move)
        self.settle(str(target), _read(Path(f"{target}{REASON}")), _size(target))
        return target

    def settle(self, location: str, record: dict[str, Any], size: int) -> None:
        """Record the refusal whose bytes are at ``location``; bytes of the name that this
        one replaces are deleted, and so are these if the DB holds a newer refusal already."""
        at = datetime.fromisoformat(record["quarantined_at"])
        name = record["name"]
        replaced = self.repository.record(
            name, record["code"], record["reason"], at, size, location
        )
        if replaced is not None:
            self.remove(replaced.location)
        current = self.repository.get(name)
        if current is not None and current.location != location:
            self.remove(location)  # an older refusal than the one recorded

    def remove(self, location: str) -> None:
        """Delete a refusal's bytes and reason (a file, a folder, a link, an object)."""
        if location.startswith(OBJECT):
            self.objects_at(location).remove(location)
        else:
            remove_quarantined(Path(location))

    def exists(self, location: str) -> bool:
        """Whether its bytes or its reason are still there."""
        if location.startswith(OBJECT):
            return self.objects_at(location).exists(location)
        return os.path.lexists(location) or os.path.lexists(f"{location}{REASON}")

    def objects_at(self, location: str) -> QuarantinedObjects:
        if self.objects is None:
            raise StorageError(f"{location}: no S3 inbox is configured to reach it")
        return self.objects


class QuarantineService:
    def __init__(
        self,
        quarantine: RecordedQuarantine,
        inbox: Path,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._quarantine = quarantine
        self._repository = quarantine.repository
        self._inbox = inbox
        self._now = now

    def entries(
        self, since: datetime | None = None, reason_contains: str | None = None
    ) -> list[QuarantineEntry]:
        return self._repository.entries(since, reason_contains=reason_contains)

    def retry(self, name: str) -> Path | str:
        """Move ``name`` back to the inbox (it goes through QC again); its entry goes.
        Where it went: a path, or the S3 inbox source."""
        entry = self._repository.get(name)
        if entry is None:
            raise ProductNotFound(f"{name} is not in quarantine")
        if entry.location.startswith(OBJECT):
            source = self._quarantine.objects_at(entry.location).restore(entry.location, name)
            self._repository.forget(entry.name, entry.location)
            log.info("quarantine: %s back in the S3 inbox for another QC", name)
            return source
        target = self._inbox / entry.name
        if target.exists():
            raise InvalidQuery(f"{target} is in the inbox already")
        if not os.path.lexists(entry.location):
            raise StorageError(f"{name} has no bytes in quarantine to retry")
        try:
            Path(f"{entry.location}{REASON}").unlink(missing_ok=True)
            self._inbox.mkdir(parents=True, exist_ok=True)
            shutil.move(entry.location, target)
        except OSError as e:
            raise StorageError(f"cannot move {entry.location} to the inbox: {e}") from e
        self._repository.forget(entry.name, entry.location)
        log.info("quarantine: %s back in the inbox for another QC", name)
        return target

    def purge(self, before: datetime) -> int:
        """Delete the entries (and their bytes) last seen before ``before``."""
        purged = 0
        for entry in self._repository.entries(until=before):
            self._quarantine.remove(entry.location)
            purged += self._repository.forget(entry.name, entry.location)
        if purged:
            log.info("quarantine: purged %d entries last seen before %s", purged, before)
        return purged

    def reconcile(self) -> int:
        """Finish what a crash left half done; returns how many things it settled. Reads
        only what no row names: a round over a full quarantine lists it, no more."""
        known = {entry.location for entry in self._repository.entries()}
        objects = self._quarantine.objects
        listed = objects.held() if objects is not None else {}  # the S3 prefix, listed once
        settled = 0
        for location, record, size in self._unrecorded(known, listed):
            self._quarantine.settle(location, record, size)
            settled += 1
        for entry in self._repository.entries():
            if not self._held(entry.location, listed):
                settled += self._repository.forget(entry.name, entry.location)  # retried, purged
        return settled

    def _unrecorded(
        self, known: set[str], listed: dict[str, tuple[int, bool]]
    ) -> Iterator[tuple[str, dict[str, Any], int]]:
        """Refusals with their reason that no row names: in the folder, then in the S3
        inbox's prefix."""
        for reason in sorted(self._quarantine.root.glob(f"*{REASON}")):
            target = Path(str(reason)[: -len(REASON)])
            if str(target) not in known:
                yield str(target), _read(reason), _size(target)
        for location, (size, has_reason) in sorted(listed.items()):
            if has_reason and location not in known:
                yield location, self._quarantine.objects_at(location).reason(location), size

    def _held(self, location: str, listed: dict[str, tuple[int, bool]]) -> bool:
        """Whether a refusal's bytes or reason are still there (an S3 one the listing missed
        is asked for again: it may have come since)."""
        if not location.startswith(OBJECT):
            return self._quarantine.exists(location)
        if self._quarantine.objects is None:
            return True  # no S3 inbox configured to look: the row stays
        return location in listed or self._quarantine.exists(location)


def remove_quarantined(target: Path) -> None:
    """Delete the reason, then the quarantined bytes (a file, a PDI folder, or a link, never
    what it points to); gone is fine."""
    try:
        Path(f"{target}{REASON}").unlink(missing_ok=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    except OSError as e:
        raise StorageError(f"cannot delete {target}: {e}") from e


def _read(reason: Path) -> dict[str, Any]:
    return json.loads(reason.read_text())  # type: ignore[no-any-return]


def _size(target: Path) -> int:
    """Bytes held in quarantine: a link and a removed FIFO hold none."""
    if target.is_symlink() or not target.exists():
        return 0
    if target.is_dir():
        return sum(
            p.lstat().st_size for p in target.rglob("*") if p.is_file() and not p.is_symlink()
        )
    return target.stat().st_size
