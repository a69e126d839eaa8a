"""The HTTP app's services, built from a process's ``Components``: the one place the API
is wired, so the core (bootstrap.py) knows nothing of the HTTP layer."""

from __future__ import annotations

from prip_ray.bootstrap import Components
from prip_ray.domain.addresses import TrustedProxies
from prip_ray.serve.services import ApiServices
from prip_ray.services.pull import PullService


def api_services(components: Components) -> ApiServices:
    settings = components.settings
    kpi = components.kpi()
    return ApiServices(
        products=components.products,
        store=components.store,
        authenticator=components.authenticator,
        settings=settings.api,
        quotas=components.quotas,
        tokens=components.tokens,
        users=components.users,
        subscription_service=components.subscription_service(),
        pull_service=PullService(
            components.subscriptions, components.pull_queue, settings.subscriptions
        ),
        work_dir=settings.work_dir,
        kpi=kpi,
        console=components.console(kpi),
        deleted=components.deleted_products(),
        withdrawer=components.withdrawer(),
        quarantine=components.quarantine(),
        sync_threads=settings.db.pool_size,
        proxies=TrustedProxies(settings.api.trusted_proxies),
    )
