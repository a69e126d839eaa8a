"""Keyset walks: a whole table read batch by batch in index order, each batch an index range
after the last row of the one before, so memory holds one batch and no batch costs an
OFFSET scan."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select, tuple_
from sqlalchemy.sql import FromClause

T = TypeVar("T")


def keyset_walk(
    table: FromClause,
    order: tuple[ColumnElement[datetime], ColumnElement[Any]],
    load: Callable[[Select[Any]], Sequence[T]],
    key_of: Callable[[T], tuple[datetime, Any]],
    since: datetime | None,
    batch: int,
) -> Iterator[T]:
    """Rows of ``table`` in ``order`` (a time column, then a unique one), from ``since`` on
    (all for None), loaded by ``load``; ``key_of`` gives a loaded row's ``order`` values."""
    last: tuple[datetime, Any] | None = None
    while True:
        query = select(table).order_by(*order).limit(batch)
        if since is not None:
            query = query.where(order[0] >= since)
        if last is not None:
            query = query.where(tuple_(*order) > tuple_(*last))
        found = load(query)
        yield from found
        if len(found) < batch:
            return
        last = key_of(found[-1])
