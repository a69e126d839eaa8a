"""Link OLQC reports and the products they inspect, in the publication's transaction.

A report and its product arrive in either order, often on two shards at once. Whichever is
published second must see the first, so both take the same lock (the inspected name's
advisory lock on PostgreSQL; SQLite lets one writer at a time anyway) before they read:

* a report adds its globalStatus to ``olqc_outcomes`` under the inspected name and, if that
  product is published, applies the new status to it;
* a product applies the status its reports already add up to, if any; one of a type that
  expects a report (``awaited``: the setting kpi.olqc_types) with none yet is listed in
  ``olqc_awaited`` until its first report arrives, which is what the KPIs count.

Applying a status sets the product's ``qualityStatus`` attribute and a new ModificationDate:
what clients are served of a product is keyed by (Id, ModificationDate, Online), so the
API's entity caches and the incremental catalogue export see the change. With ``on_failed``
``offline`` a FAILED product is also withdrawn as an eviction withdraws it: Online false, a
``deleted`` event and its DeletedProducts entry now (DeletionCause ``FAILED_WITHDRAWAL``),
its bytes removed by the Roller's next sweep of offline entries.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, delete, insert, select, update

from prip_ray.db.deleted import record_deletion
from prip_ray.db.locks import lock_name
from prip_ray.db.tables import attributes, olqc_awaited, olqc_outcomes, outbox, products
from prip_ray.domain.naming import EXTENSIONS
from prip_ray.domain.olqc import (
    FAILED,
    FAILED_WITHDRAWAL,
    FLAG,
    GLOBAL_STATUS,
    INSPECTED_PRODUCT,
    OFFLINE,
    ON_FAILED,
    QUALITY_STATUS,
    Tally,
    inspected_key,
    is_report,
)
from prip_ray.domain.products import Product
from prip_ray.errors import ConfigurationError

_TICK = timedelta(microseconds=1)  # a new ModificationDate is always later than the last


class OlqcLinks:
    """The OLQC part of every publication; ``on_failed`` is the setting olqc.on_failed,
    ``awaited`` the product types whose products wait for a report (kpi.olqc_types)."""

    def __init__(self, on_failed: str = FLAG, awaited: Collection[str] = ()):
        if on_failed not in ON_FAILED:
            raise ConfigurationError(f"olqc.on_failed {on_failed!r}: one of {ON_FAILED}")
        self.on_failed = on_failed
        self.awaited = frozenset(awaited)

    def on_publish(self, conn: Connection, product: Product) -> None:
        """Called in ``product``'s publication transaction, after its rows are written."""
        now = product.publication_date
        if is_report(product.product_type):
            self._record(conn, product, now)
            return
        key = inspected_key(product.name)
        _lock(conn, key)
        status = self._tally(conn, key).status
        if status is not None:  # nobody has seen the product yet: its dates stay
            self._apply(conn, product.id, status, now, new_version=False)
        elif product.product_type in self.awaited:
            conn.execute(
                insert(olqc_awaited).values(
                    product_id=product.id,
                    name=product.name,
                    product_type=product.product_type,
                    publication_date=product.publication_date,
                )
            )

    def _record(self, conn: Connection, report: Product, now: datetime) -> None:
        values = {a.name: a.value for a in report.attributes}
        inspected, status = values.get(INSPECTED_PRODUCT), values.get(GLOBAL_STATUS)
        if not isinstance(inspected, str) or not isinstance(status, str):
            return  # not read as a report at inspection (published before OLQC parsing)
        _lock(conn, inspected)
        before = self._tally(conn, inspected)
        after = before.add(status)
        counts = {"passed": after.passed, "failed": after.failed, "errors": after.errors}
        if before == Tally():
            conn.execute(
                insert(olqc_outcomes).values(inspected=inspected, updated_at=now, **counts)
            )
        else:
            conn.execute(
                update(olqc_outcomes)
                .where(olqc_outcomes.c.inspected == inspected)
                .values(updated_at=now, **counts)
            )
        target = _published(conn, inspected)
        if target is not None and after.status is not None:
            self._apply(conn, target, after.status, now)
            conn.execute(delete(olqc_awaited).where(olqc_awaited.c.product_id == target))

    def _tally(self, conn: Connection, inspected: str) -> Tally:
        c = olqc_outcomes.c
        row = conn.execute(
            select(c.passed, c.failed, c.errors).where(c.inspected == inspected)
        ).first()
        return Tally(*row) if row is not None else Tally()

    def _apply(
        self,
        conn: Connection,
        product_id: UUID,
        status: str,
        now: datetime,
        *,
        new_version: bool = True,
    ) -> None:
        """Set qualityStatus (and withdraw a FAILED product if so configured) with a new
        ModificationDate; a product whose status is already that is left as it is."""
        current = _quality_status(conn, product_id)
        row = conn.execute(
            select(products.c.modification_date, products.c.online).where(
                products.c.id == product_id
            )
        ).one()
        withdraw = status == FAILED and self.on_failed == OFFLINE and row.online
        if current == status and not withdraw:
            return
        _set_quality_status(conn, product_id, status, exists=current is not None)
        changes: dict[str, object] = {}
        if new_version:
            changes["modification_date"] = max(now, row.modification_date + _TICK)
        if withdraw:
            changes["online"] = False
            conn.execute(
                insert(outbox).values(product_id=product_id, event="deleted", created_at=now)
            )
        if changes:
            conn.execute(update(products).where(products.c.id == product_id).values(**changes))
        if withdraw:  # the entry copies the row as it is now: offline, FAILED
            record_deletion(conn, product_id, now, FAILED_WITHDRAWAL)


def lock_key(product: Product) -> str:
    """The inspected name whose lock :meth:`OlqcLinks.on_publish` takes for ``product``:
    a group publishing several products takes them in this order."""
    if is_report(product.product_type):
        inspected = {a.name: a.value for a in product.attributes}.get(INSPECTED_PRODUCT)
        return inspected if isinstance(inspected, str) else ""
    return inspected_key(product.name)


def _lock(conn: Connection, inspected: str) -> None:
    """Serialise the report and product sides of one inspected name until commit."""
    lock_name(conn, f"olqc:{inspected}")


def _published(conn: Connection, inspected: str) -> UUID | None:
    """The published product a report's inspected name stands for, with any extension."""
    names = [inspected, *(inspected + extension for extension in EXTENSIONS)]
    query = select(products.c.id, products.c.product_type).where(products.c.name.in_(names))
    for product_id, product_type in conn.execute(query):
        if not is_report(product_type):
            return product_id  # type: ignore[no-any-return]
    return None


def _quality_status(conn: Connection, product_id: UUID) -> str | None:
    query = select(attributes.c.string_value).where(
        attributes.c.product_id == product_id, attributes.c.name == QUALITY_STATUS
    )
    return conn.execute(query).scalar()


def _set_quality_status(conn: Connection, product_id: UUID, status: str, *, exists: bool) -> None:
    if exists:
        conn.execute(
            update(attributes)
            .where(attributes.c.product_id == product_id, attributes.c.name == QUALITY_STATUS)
            .values(string_value=status)
        )
        return
    conn.execute(
        insert(attributes).values(
            product_id=product_id, name=QUALITY_STATUS, value_type="String", string_value=status
        )
    )
