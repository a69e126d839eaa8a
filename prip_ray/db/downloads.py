"""Download history: who downloaded what, how many bytes, when, and whether it completed.

It is the source of truth for the volume quota, and its ``active`` rows are the parallel
download slots, with the ``redirected`` ones whose presigned URL has not expired yet.
``start`` decides and records in one transaction, with the user's row locked
(PostgreSQL ``FOR UPDATE``; SQLite serialises writers), so two replicas cannot both take the
last slot. A running download reports progress as it sends; one that stops progressing for
``stale_after`` (its client went away, its replica died) no longer holds a slot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update

from prip_ray.db.tables import downloads, users
from prip_ray.domain.products import Product
from prip_ray.domain.quotas import QuotaLimits, Usage


@dataclass(frozen=True)
class DownloadRecord:
    id: UUID
    user_name: str
    product_name: str
    bytes_sent: int
    started_at: datetime
    ended_at: datetime | None
    status: str


class DownloadHistory:
    def __init__(self, engine: Engine, *, stale_after: timedelta = timedelta(hours=6)):
        self._engine = engine
        self._stale_after = stale_after

    def start(
        self,
        user: str,
        product: Product,
        limits: QuotaLimits,
        now: datetime,
        check: Callable[[QuotaLimits, Usage, int], None],
        status: str = "active",
        *,
        hold: timedelta = timedelta(0),
    ) -> UUID:
        """Record a download that ``check`` allows (it raises QuotaExceeded otherwise).

        A ``redirected`` download (a presigned URL) is recorded as sent in full, and its
        ``ended_at`` is when the URL expires: until then it holds a parallel slot."""
        download_id = uuid.uuid4()
        with self._engine.begin() as conn:
            conn.execute(select(users.c.name).where(users.c.name == user).with_for_update())
            check(limits, self._usage(conn, user, limits, now), product.content_length)
            conn.execute(
                insert(downloads).values(
                    id=download_id, user_name=user, product_id=product.id,
                    product_name=product.name, started_at=now, progress_at=now, status=status,
                    bytes_sent=product.content_length if status == "redirected" else 0,
                    ended_at=now + hold if status == "redirected" else None,
                )
            )  # fmt: skip
        return download_id

    def progress(self, download_id: UUID, bytes_sent: int, now: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(downloads)
                .where(downloads.c.id == download_id, downloads.c.status == "active")
                .values(bytes_sent=bytes_sent, progress_at=now)
            )

    def finish(self, download_id: UUID, bytes_sent: int, completed: bool, now: datetime) -> None:
        status = "completed" if completed else "aborted"
        with self._engine.begin() as conn:
            conn.execute(
                update(downloads)
                .where(downloads.c.id == download_id)
                .values(bytes_sent=bytes_sent, ended_at=now, status=status)
            )

    def expire_stale(self, now: datetime) -> int:
        """Mark downloads that stopped progressing as aborted (their client went away)."""
        stale = and_(
            downloads.c.status == "active", downloads.c.progress_at <= now - self._stale_after
        )
        with self._engine.begin() as conn:
            done = conn.execute(
                update(downloads).where(stale).values(status="aborted", ended_at=now)
            )
        return int(done.rowcount)

    def usage(self, user: str, limits: QuotaLimits, now: datetime) -> Usage:
        with self._engine.connect() as conn:
            return self._usage(conn, user, limits, now)

    def _usage(self, conn: object, user: str, limits: QuotaLimits, now: datetime) -> Usage:
        streaming = and_(
            downloads.c.status == "active", downloads.c.progress_at > now - self._stale_after
        )
        redirected = and_(downloads.c.status == "redirected", downloads.c.ended_at > now)
        active = and_(downloads.c.user_name == user, or_(streaming, redirected))
        in_window = and_(
            downloads.c.user_name == user, downloads.c.started_at > now - limits.window
        )
        query = select(
            select(func.count()).where(active).scalar_subquery(),
            select(func.coalesce(func.sum(downloads.c.bytes_sent), 0))
            .where(in_window)
            .scalar_subquery(),
        )
        running, volume = conn.execute(query).one()  # type: ignore[attr-defined]
        return Usage(int(running), int(volume), 0)

    def recent(self, user: str, limit: int = 100) -> list[DownloadRecord]:
        query = (
            select(downloads)
            .where(downloads.c.user_name == user)
            .order_by(downloads.c.started_at.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            DownloadRecord(
                r["id"], r["user_name"], r["product_name"], r["bytes_sent"], r["started_at"],
                r["ended_at"], r["status"],
            )
            for r in rows
        ]  # fmt: skip

    def purge(self, before: datetime, batch: int = 5000) -> int:
        """Delete history that ended (or started) before ``before``, ``batch`` rows per
        transaction so no lock is held long; active downloads are kept unless stale."""
        removed = 0
        old = and_(
            downloads.c.started_at < before,
            or_(
                downloads.c.status != "active", downloads.c.started_at < before - self._stale_after
            ),
        )
        while True:
            with self._engine.begin() as conn:
                ids = conn.execute(select(downloads.c.id).where(old).limit(batch)).scalars().all()
                if ids:
                    conn.execute(delete(downloads).where(downloads.c.id.in_(ids)))
            removed += len(ids)
            if len(ids) < batch:
                return removed
