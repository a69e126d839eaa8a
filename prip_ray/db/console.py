"""What the operator console shows beside the KPIs, read from the PRIP DB: downloads and
volume per user, products part-way through ingestion, the outbox head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from prip_ray.db.tables import downloads, ingestions, outbox
from prip_ray.domain.kpi import UserDownloads as UserDownloads


class ConsoleRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def downloads_per_user(self, since: datetime, until: datetime) -> list[UserDownloads]:
        """Downloads started in the window, by user, most bytes first."""
        sent = func.coalesce(func.sum(downloads.c.bytes_sent), 0)
        query = (
            select(downloads.c.user_name, func.count(), sent)
            .where(downloads.c.started_at >= since, downloads.c.started_at < until)
            .group_by(downloads.c.user_name)
            .order_by(sent.desc(), downloads.c.user_name)
        )
        with self._engine.connect() as conn:
            return [UserDownloads(u, int(n), int(b)) for u, n, b in conn.execute(query)]

    def storing(self) -> int:
        """Products whose bytes are on their way to the store (journal state ``storing``)."""
        query = select(func.count()).where(ingestions.c.state == "storing")
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def outbox_head(self) -> int:
        """The last outbox event's number: a subscription's cursor behind it has a backlog."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(outbox.c.seq), 0))).scalar_one())
