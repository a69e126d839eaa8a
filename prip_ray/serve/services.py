"""What the HTTP app needs from the rest of the PRIP, built by ``bootstrap.Components``."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fastapi import Request

from prip_ray.config import ApiSettings
from prip_ray.db.deleted import DeletedProductRepository
from prip_ray.db.repository import ProductRepository
from prip_ray.db.users import UserRepository
from prip_ray.domain.addresses import TrustedProxies
from prip_ray.domain.product_types import ProductTypeRegistry, default_registry
from prip_ray.domain.users import User
from prip_ray.metrics import Metrics, NoMetrics
from prip_ray.odata.entity_cache import EntityCache
from prip_ray.ports import ObjectStore
from prip_ray.serve.blocking import BlockingPool
from prip_ray.services.auth import Authenticator
from prip_ray.services.console import ConsoleService
from prip_ray.services.kpi import KpiService
from prip_ray.services.pull import PullService
from prip_ray.services.quarantine import QuarantineService
from prip_ray.services.quotas import QuotaService
from prip_ray.services.subscriptions import SubscriptionService
from prip_ray.services.tokens import TokenService
from prip_ray.services.withdraw import Withdrawer


class DownloadGateways(Protocol):
    """The download gateways ``$value`` may send a client to (actors/gateway_directory.py)."""

    def pick(self) -> str | None:
        """Base URL of a live gateway, the nearest first; None when none answers."""
        ...


@dataclass
class ApiServices:
    products: ProductRepository
    store: ObjectStore
    authenticator: Authenticator
    settings: ApiSettings
    quotas: QuotaService | None = None  # None: no quotas (tests of other concerns)
    tokens: TokenService | None = None  # None: no token endpoint
    users: UserRepository | None = None
    subscription_service: SubscriptionService | None = None  # None: no Subscriptions routes
    pull_service: PullService | None = None  # None: no Read and Ack of pull subscriptions
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    metrics: Metrics = field(default_factory=NoMetrics)
    kpi: KpiService | None = None
    console: ConsoleService | None = None  # None: no operator console
    # None only in tests of other concerns, whose routes never reach these
    deleted: DeletedProductRepository = None  # type: ignore[assignment]
    withdrawer: Withdrawer = None  # type: ignore[assignment]
    quarantine: QuarantineService = None  # type: ignore[assignment]
    gateways: DownloadGateways | None = None  # None: $value streams the bytes itself
    # Blocking work (DB reads, store calls) runs in at most this many threads at once: as
    # many as the DB pool keeps open, so a burst never opens and closes extra connections.
    sync_threads: int = 40
    proxies: TrustedProxies = field(default_factory=TrustedProxies)  # X-Forwarded-For
    product_types: ProductTypeRegistry = field(default_factory=default_registry)  # STAC
    blocking: BlockingPool = field(init=False)  # the routes' own threads (serve/blocking.py)
    entities: EntityCache = field(init=False)  # encoded products (odata/entity_cache.py)

    def __post_init__(self) -> None:
        self.blocking = BlockingPool(self.sync_threads)
        self.entities = EntityCache(self.settings.entity_cache_entries)

    def users_get(self, name: str) -> User | None:
        return self.users.get(name) if self.users is not None else None


def services_of(request: Request) -> ApiServices:
    """The app's services, typed: the one way a route reaches them."""
    services: ApiServices = request.app.state.services
    return services
