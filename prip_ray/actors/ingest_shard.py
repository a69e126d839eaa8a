"""IngestShard: a Ray actor that owns one shard of the inbox and feeds a pool of QC workers.

It coordinates: which products are its own and ready (``ShardPlan``), how many are in
flight (backpressure), how many QC workers it needs (``desired_workers``), and which
products that finished QC are published together (``PublishQueue``: one transaction for
a group). After a restart it resumes from the inbox and the ingestion journal, not from
memory: products it held waiting for publication are simply prepared again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError, RayTaskError

from prip_ray.actors.names import OUTBOX_READERS
from prip_ray.actors.service_handle import find_services
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.domain.backoff import Backoff, RetrySchedule
from prip_ray.domain.naming import product_type_of
from prip_ray.errors import IngestFailed
from prip_ray.metrics import RayMetrics
from prip_ray.services.dispatch import (
    PoolSizer,
    PublishQueue,
    ReadyList,
    ShardPlan,
    WorkerDeaths,
    bundles,
)
from prip_ray.services.ingest import ReadyProduct

log = logging.getLogger(__name__)

STALE_ATTEMPT = timedelta(minutes=30)  # an upload this old without progress was abandoned
WAKE_EVERY_S = 0.25


class IngestShard:
    def __init__(self, settings: Settings, shard: int, shards: int, qc_worker_cls: Any):
        """``qc_worker_cls``: the QC worker as a Ray actor class, from the factory (which
        applies every actor's Ray options; importing it here would be a circle)."""
        self._settings = settings
        self._components = Components(settings)
        self._plan = ShardPlan(shard, shards, settings.ingest.max_in_flight)
        self._worker_cls = qc_worker_cls
        self._workers: list[Any] = []
        self._ready_workers: set[Any] = set()  # started: a product sent to them is worked on
        self._starting: dict[Any, Any] = {}  # ping ObjectRef -> worker still being placed
        self._restarting: set[Any] = set()  # unreachable (its process or node lost): in _starting
        self._sizer = PoolSizer(settings.ingest.qc_workers_min, settings.ingest.qc_workers_max)
        self._woken_at = float("-inf")
        self._in_flight: dict[Any, tuple[list[str], Any]] = {}  # ObjectRef -> (names, worker)
        self._started: dict[Any, float] = {}  # ObjectRef -> when it was picked up
        self._publishing = PublishQueue(
            settings.ingest.publish_batch, settings.ingest.publish_wait_ms / 1000
        )
        self._picked_at: dict[str, float] = {}  # waiting for publication -> when picked up
        self._metrics = RayMetrics()
        self._counts: Counter[str] = Counter()
        self._retries = RetrySchedule(Backoff(base_s=settings.ingest.retry_base_s))
        self._deaths = WorkerDeaths(settings.ingest.max_worker_deaths)
        self._alone: set[str] = set()  # in a bundle whose worker died: QC'd alone from now on
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._recovered = False
        self._ready = ReadyList(
            self._components.inbox.ready, self._plan.owns, settings.ingest.poll_interval_s
        )
        self._thread = threading.Thread(target=self._run, name=f"shard-{shard}", daemon=True)
        self._thread.start()

    def poll_once(self) -> dict[str, Any]:
        """One round: recover once, collect finished products, send ready ones to QC."""
        with self._lock:
            if not self._recovered:
                self._recover()
            self._collect(timeout=0)
            self._publish_due()
            self._note_started_workers()
            candidates = self._ready.candidates()
            publishing, now = self._publishing.names(), time.monotonic()
            # Products waiting for publication are done with QC: not offered again, but not
            # counted against the in-flight bound either, so QC goes on while a group forms.
            batch = self._plan.select(
                candidates,
                self._names_in_flight(),
                due=lambda n: n not in publishing and self._retries.due(n, now),
            )
            self._size_pool(self._load() + len(batch))
            placed = len(self._ready_workers) or len(self._workers)
            most = self._settings.ingest.publish_batch
            for bundle in bundles(batch, placed, most, alone=self._alone):
                self._submit([item.source for item in bundle], [item.name for item in bundle])
            waiting = len(candidates) - len(batch)
            self._metrics.qc_queue(self._plan.shard, self._load(), max(0, waiting))
            return self._stats()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling: a DB or store outage must not end the shard
                log.exception("ingest shard %d: poll failed", self._plan.shard)
            self._wait_for_work()

    def _wait_for_work(self) -> None:
        """Until a product in QC finishes or a new QC worker is up (either can take the next
        product at once) or the poll interval ends (new products in the inbox)."""
        interval = self._settings.ingest.poll_interval_s
        with self._lock:
            in_flight = [*self._in_flight, *self._starting]
            due_in = self._publishing.due_in()
        if due_in is not None:  # a group waits for publication: not longer than it may
            interval = min(interval, due_in)
        if in_flight:
            ray.wait(in_flight, num_returns=1, timeout=interval)
        else:
            self._stop.wait(interval)

    def _recover(self) -> None:
        resolved = self._components.ingest.recover(
            owns=self._plan.owns, in_inbox=self._components.inbox.holds, stale_after=STALE_ATTEMPT
        )
        self._counts["recovered"] += resolved
        self._recovered = True

    def _submit(self, sources: list[str], names: list[str]) -> None:
        # A worker Ray has not placed yet (no CPU free for it) would sit on its products for
        # as long as that takes: send to started ones, all of them only while none is.
        # One being restarted refuses at once: the products wait for it in the inbox instead.
        pool = [w for w in self._workers if w in self._ready_workers] or [
            w for w in self._workers if w not in self._restarting
        ]
        if not pool:
            return
        worker = min(pool, key=self._load_of)
        ref = worker.prepare.remote(sources)
        self._in_flight[ref] = (names, worker)
        self._started[ref] = time.monotonic()
        self._counts["submitted"] += len(names)

    def _collect(self, timeout: float) -> None:
        if not self._in_flight:
            return
        done, _ = ray.wait(list(self._in_flight), num_returns=len(self._in_flight), timeout=timeout)
        published = self._counts["published"]
        for ref in done:
            names, worker = self._in_flight.pop(ref)
            picked_at = self._started.pop(ref, time.monotonic())
            try:
                results = ray.get(ref)
            except (RayActorError, RayTaskError) as e:  # they stay in the inbox: picked again
                self._counts["worker_failed"] += len(names)
                seconds = time.monotonic() - picked_at
                for name in names:
                    self._metrics.ingested("worker_failed", product_type_of(name), 0, seconds)
                log.warning("ingest shard %d: %s failed in QC: %s", self._plan.shard, names, e)
                self._worker_died(names, e)
                if isinstance(e, ActorUnavailableError):
                    self._wait_for_restart(worker)
                continue
            for name, result in zip(names, results, strict=True):
                if isinstance(result, ReadyProduct):  # QC passed, bytes stored: to a group
                    self._publishing.add(result)
                    self._picked_at[name] = picked_at
                else:
                    self._finish(name, result["status"], result.get("size", 0), picked_at)
        if self._counts["published"] > published:
            self._wake_outbox_readers()

    def _publish_due(self) -> None:
        published = self._counts["published"]
        while group := self._publishing.take():
            for outcome in self._components.ingest.publish(group):
                picked_at = self._picked_at.pop(outcome.name, time.monotonic())
                self._finish(outcome.name, outcome.status, outcome.size, picked_at)
        if self._counts["published"] > published:
            self._wake_outbox_readers()

    def _finish(self, name: str, status: str, size: int, picked_at: float) -> None:
        """Count an outcome; a product that left the inbox is never offered again."""
        self._counts[status] += 1
        self._metrics.ingested(status, product_type_of(name), size, time.monotonic() - picked_at)
        if status == "retry":  # a downstream failed: try again later
            self._retries.failed(name, time.monotonic())
        else:  # published, rejected or completed: moved
            self._ready.gone(name)
            self._retries.succeeded(name)
        self._deaths.forget(name)
        self._alone.discard(name)

    def _worker_died(self, names: list[str], error: Exception) -> None:
        """A death counts against a product only when it was alone in its call: a bundle's
        products are sent alone after it, so the one to blame shows itself."""
        if not _product_may_be_to_blame(error):
            return
        if len(names) > 1:
            self._alone.update(names)
        elif self._deaths.died(names[0]):
            self._quarantine_poison(names[0], error)

    def _quarantine_poison(self, name: str, error: Exception) -> None:
        deaths = self._deaths.count(name)
        reason = IngestFailed(f"{name}: its QC worker failed {deaths} times on it: {error}")
        source = self._components.inbox.source_of(name)
        with contextlib.suppress(FileNotFoundError):  # taken back by the production chain
            self._components.ingest.quarantine_unread(source, reason)
            self._counts["rejected"] += 1
        self._ready.gone(name)
        self._deaths.forget(name)
        self._alone.discard(name)

    def _wake_outbox_readers(self) -> None:
        """New products: tell the outbox readers now rather than at their next poll (a hint only;
        the outbox written with each product is what makes sure nothing is missed)."""
        if time.monotonic() - self._woken_at < WAKE_EVERY_S:
            return  # they are awake already; each look-up is a round trip to the GCS
        self._woken_at = time.monotonic()
        with contextlib.suppress(ValueError):  # no service host (ingest-only)
            # the host ignores the ones it does not run (not configured)
            for reader in find_services(OUTBOX_READERS, self._settings.ray.namespace):
                reader.wake.remote()

    def _size_pool(self, load: int) -> None:
        change = self._sizer.change(len(self._workers), load)
        for _ in range(change):
            worker = self._worker_cls.remote(self._settings)
            self._workers.append(worker)
            self._starting[worker.ping.remote()] = worker
        idle = [w for w in self._workers if self._load_of(w) == 0]
        idle.sort(key=lambda w: w in self._ready_workers)  # stop unplaced ones first
        for worker in idle[: max(0, -change)]:
            self._workers.remove(worker)
            self._ready_workers.discard(worker)
            self._restarting.discard(worker)
            ray.kill(worker)

    def _wait_for_restart(self, worker: Any) -> None:
        """Send it nothing until Ray has it back: a ping that Ray retries until then."""
        if worker in self._workers and worker not in self._restarting:
            self._restarting.add(worker)
            self._ready_workers.discard(worker)
            self._starting[worker.ping.options(max_task_retries=-1).remote()] = worker

    def _note_started_workers(self) -> None:
        if not self._starting:
            return
        done, _ = ray.wait(list(self._starting), num_returns=len(self._starting), timeout=0)
        for ref in done:
            worker = self._starting.pop(ref)
            self._restarting.discard(worker)
            with contextlib.suppress(RayActorError):  # died starting: Ray restarts it
                ray.get(ref)
            if worker in self._workers:
                self._ready_workers.add(worker)

    def _load_of(self, worker: Any) -> int:
        return sum(len(names) for names, w in self._in_flight.values() if w == worker)

    def _load(self) -> int:
        """Products in QC (a call may hold several)."""
        return sum(len(names) for names, _ in self._in_flight.values())

    def _names_in_flight(self) -> set[str]:
        return {name for names, _ in self._in_flight.values() for name in names}

    def _stats(self) -> dict[str, Any]:
        return {
            "shard": self._plan.shard,
            "in_flight": self._load(),
            "to_publish": len(self._publishing),
            "backing_off": len(self._retries),
            "workers": len(self._workers),
            **self._counts,
        }


def _product_may_be_to_blame(error: Exception) -> bool:
    """A worker that was unreachable for a moment, or lost with its preempted node, says
    nothing about the product it held; one that died or raised under it may."""
    if isinstance(error, ActorUnavailableError):
        return False
    return not getattr(error, "preempted", False)
