"""Withdraw a published product: offline at once, announced as deleted, bytes gone.

The operator's command (``prip-ray product withdraw``) and the admin action
(``Products(<Id>)/OData.CSC.Withdraw``) both come here. The steps and their crash safety
are those of an eviction (db/withdrawals.py); a withdrawn product may be delivered again
later (a corrected version under the same name): ingestion then takes the withdrawn row
out of Products (db/retention.py ``remove_withdrawn``) and publishes the new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from prip_ray.domain.withdrawals import withdrawal_cause
from prip_ray.errors import ProductNotFound
from prip_ray.ports import EvictedBytes, ObjectStore, ProductCatalogue, Withdrawals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WithdrawReport:
    product_id: UUID
    name: str
    cause: str
    announced: bool  # False: it was offline already (withdrawn or evicted before)
    freed_bytes: int


class Withdrawer:
    def __init__(
        self,
        products: ProductCatalogue,
        withdrawals: Withdrawals,
        evictions: EvictedBytes,
        store: ObjectStore,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._products = products
        self._withdrawals = withdrawals
        self._evictions = evictions
        self._store = store
        self._now = now

    def withdraw_name(self, name: str, cause: str) -> WithdrawReport:
        product = self._products.by_name(name)
        if product is None:
            raise ProductNotFound(f"no product named {name} in Products")
        return self.withdraw(product.id, cause)

    def withdraw(self, product_id: UUID, cause: str) -> WithdrawReport:
        product = self._products.get(product_id)
        done = self._withdrawals.withdraw(product_id, self._now(), withdrawal_cause(cause))
        if done is None:
            raise ProductNotFound(f"no product with Id {product_id}")
        freed = 0
        if done.object_key:
            # A failure here (StorageError) leaves an offline entry with its key: the
            # Roller's orphan sweep or the next withdrawal deletes the bytes.
            self._store.delete(done.object_key)
            self._evictions.bytes_gone(product_id)
            freed = product.content_length
        log.info("withdrew %s (%s)", product.name, done.cause)
        return WithdrawReport(product_id, product.name, done.cause, done.announced, freed)
