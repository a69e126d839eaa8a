"""The singletons that deliver what ingestion publishes: the notifier (the Subscription
component), the Tracer and the HKTM forwarder (see ``actors/leased_service.py``). Their progress is
in the PRIP DB (cursors and outbox, delivery queues), so a restart resumes without losing or
repeating a delivery; a shard that published wakes them (``names.OUTBOX_READERS``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ray.util.metrics import Counter, Gauge

from prip_ray.actors.singleton_service import SingletonService
from prip_ray.bootstrap import Components
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.metrics import add


@dataclass
class DeliveryMetrics:
    """The metrics of a delivery queue's singleton (tracer, HKTM forwarder)."""

    done: Counter
    failed: Counter
    refused: Counter
    backlog: Gauge
    lag: Gauge


def _delivery(
    queue: DeliveryQueue,
    run_once: Callable[[], tuple[int, int, int]],
    metrics: DeliveryMetrics,
    interval_s: float,
) -> SingletonService:
    """A singleton that works a delivery queue: ``run_once`` returns (done, failed, refused);
    done and refused leave the queue, failed ones are retried."""

    def work() -> int:
        done, failed, refused = run_once()
        add(metrics.done, done)
        add(metrics.failed, failed)
        add(metrics.refused, refused)
        backlog, lag = queue.backlog(datetime.now(UTC))
        metrics.backlog.set(backlog)
        metrics.lag.set(lag)
        return done + refused

    def stats() -> dict[str, Any]:
        backlog, lag = queue.backlog(datetime.now(UTC))
        return {"backlog": backlog, "lag_s": lag, **queue.counts()}

    return SingletonService(work=work, interval_s=interval_s, run=work, stats=stats)


def tracer(components: Components) -> SingletonService:
    tracer = components.tracer()

    def run_once() -> tuple[int, int, int]:
        result = tracer.run_once()
        return result.sent + result.recovered, result.failed, result.refused

    metrics = DeliveryMetrics(
        Counter("prip_traces_sent", "traces accepted by the Traceability Service"),
        Counter("prip_traces_failed", "trace attempts that must be retried"),
        Counter("prip_traces_refused", "traces refused (4xx), not retried"),
        Gauge("prip_trace_backlog", "traces waiting to be sent"),
        Gauge("prip_trace_lag_seconds", "age of the oldest trace waiting"),
    )
    queue = DeliveryQueue(components.engine, "trace")
    return _delivery(queue, run_once, metrics, components.settings.trace.poll_interval_s)


def hktm_forwarder(components: Components) -> SingletonService:
    forwarder = components.hktm_forwarder()

    def run_once() -> tuple[int, int, int]:
        result = forwarder.run_once()
        return result.delivered + result.already, result.failed, result.refused

    metrics = DeliveryMetrics(
        Counter("prip_hktm_delivered", "HKTM products delivered to FOS"),
        Counter("prip_hktm_failed", "FOS delivery attempts to be retried"),
        Counter("prip_hktm_refused", "HKTM products FOS cannot have"),
        Gauge("prip_hktm_backlog", "HKTM products waiting for FOS"),
        Gauge("prip_hktm_lag_seconds", "age of the oldest HKTM product waiting"),
    )
    queue = DeliveryQueue(components.engine, "hktm")
    return _delivery(queue, run_once, metrics, components.settings.fos.poll_interval_s)


def notifier(components: Components) -> SingletonService:
    """The Subscription component: cursors and outbox in the DB."""
    notifier = components.notifier()
    delivered = Counter("prip_notifications_delivered", "notifications delivered")
    failed = Counter("prip_notifications_failed", "notification attempts that failed (retried)")
    seen = {"delivered": 0, "failures": 0}  # since this actor started

    def work() -> int:
        count = notifier.run_once()
        seen["delivered"] += count
        add(delivered, count)
        add(failed, notifier.failures - seen["failures"])
        seen["failures"] = notifier.failures
        return count

    interval_s = components.settings.subscriptions.poll_interval_s
    return SingletonService(
        work=work, interval_s=interval_s, run=work, stats=lambda: {"delivered": seen["delivered"]}
    )
