"""Composition root: builds engines, stores and services from Settings.

Called inside each actor, replica or CLI process (never at import, never shipped through
Ray): each process gets its own SQLAlchemy engine and boto3 client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from prip_ray.config import Settings
from prip_ray.db.console import ConsoleRepository
from prip_ray.db.counters import RequestCounters
from prip_ray.db.deleted import DeletedProductRepository
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.db.downloads import DownloadHistory
from prip_ray.db.eviction import EvictionRepository
from prip_ray.db.journal import IngestionJournal
from prip_ray.db.kpi import KpiRepository
from prip_ray.db.kpi_hours import KpiHours
from prip_ray.db.migrate import upgrade
from prip_ray.db.olqc import OlqcLinks
from prip_ray.db.probe_hours import ProbeHours
from prip_ray.db.pruning import EventPruner
from prip_ray.db.pull import PullQueue
from prip_ray.db.quarantine import QuarantineRepository
from prip_ray.db.repository import ProductRepository
from prip_ray.db.retention import RetentionRepository
from prip_ray.db.session import create_db_engine
from prip_ray.db.subscriptions import SubscriptionRepository
from prip_ray.db.user_cache import UserCache
from prip_ray.db.users import UserRepository
from prip_ray.db.withdrawals import WithdrawalRepository
from prip_ray.domain.backoff import Backoff
from prip_ray.domain.endpoints import EndpointPolicy
from prip_ray.domain.kpi_series import OlqcExpected, Targets
from prip_ray.domain.package import ScanLimits
from prip_ray.domain.product_types import default_registry
from prip_ray.domain.qc import QcPolicy
from prip_ray.domain.retention import parse_duration, tally_retention
from prip_ray.errors import ConfigurationError
from prip_ray.ports import ObjectStore
from prip_ray.ports.inbox import Inbox
from prip_ray.security.keys import load_or_create_signing_key
from prip_ray.security.secrets import SecretBox
from prip_ray.security.signing import TraceSigner
from prip_ray.services.auth import Authenticator
from prip_ray.services.console import ConsoleService
from prip_ray.services.export import CatalogueExporter
from prip_ray.services.hktm import HktmForwarder
from prip_ray.services.ingest import IngestService
from prip_ray.services.kpi import KpiService
from prip_ray.services.notify import Notifier
from prip_ray.services.quarantine import QuarantineService, RecordedQuarantine
from prip_ray.services.quotas import QuotaService
from prip_ray.services.roll import Roller
from prip_ray.services.subscriptions import SubscriptionService
from prip_ray.services.tokens import TokenService
from prip_ray.services.trace import Tracer
from prip_ray.services.withdraw import Withdrawer
from prip_ray.storage.factory import build_object_store
from prip_ray.storage.inbox import LocalInbox

if TYPE_CHECKING:
    from prip_ray.storage.s3_inbox import S3Inbox
from prip_ray.storage.traceability import TraceabilityClient
from prip_ray.storage.webhook import Webhook


@dataclass
class Components:
    """Lazily built parts of one process; build what a process needs and nothing more."""

    settings: Settings
    statement_timeout_s: float = 0  # for every statement of this process (the API's only)

    @classmethod
    def for_api(cls, settings: Settings) -> Components:
        """Components of an API replica: statements are stopped after
        ``api.statement_timeout_s``, so no request can occupy the DB for long."""
        return cls(settings, statement_timeout_s=settings.api.statement_timeout_s)

    @cached_property
    def engine(self) -> Engine:
        db = self.settings.db
        return create_db_engine(
            self.settings.db_url,
            pool_size=db.pool_size,
            echo=db.echo,
            statement_timeout_s=self.statement_timeout_s,
        )

    @cached_property
    def store(self) -> ObjectStore:
        store = self.settings.store
        return build_object_store(store.kind, local_root=self.settings.store_root, s3=store.s3)

    @cached_property
    def products(self) -> ProductRepository:
        links = OlqcLinks(self.settings.olqc.on_failed, self.settings.kpi.olqc_types)
        return ProductRepository(self.engine, links)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.engine)

    @cached_property
    def inbox(self) -> Inbox:
        """Where products arrive: the inbox folder, or the S3 inbox."""
        return self.object_inbox or LocalInbox(self.settings.inbox, self.settings.ingest.settle_s)

    @cached_property
    def object_inbox(self) -> S3Inbox | None:
        """The S3 inbox (``ingest.inbox: s3://...``); None when the inbox is a folder."""
        s3 = self.settings.inbox_s3
        if s3 is None:
            return None
        from prip_ray.storage.s3 import S3ObjectStore
        from prip_ray.storage.s3_inbox import S3Inbox

        store = self.store
        # On another server (or a local store), each product is downloaded once, then put.
        copy_to = store if isinstance(store, S3ObjectStore) else None
        if copy_to is not None and not copy_to.shares_endpoint(s3):
            copy_to = None
        quarantine = self.settings.inbox_quarantine_prefix
        return S3Inbox(
            s3,
            quarantine,
            self.settings.work_dir,
            copy_to=copy_to,
            recorded=lambda location, record, size: self.recorded_quarantine().settle(
                location, record, size
            ),
        )

    @cached_property
    def ingest(self) -> IngestService:
        ingest = self.settings.ingest
        return IngestService(
            store=self.store,
            repository=self.products,
            journal=IngestionJournal(self.engine),
            quarantine=self.recorded_quarantine(),
            registry=default_registry(),
            policy=QcPolicy(absent_files=ingest.absent_files),
            retention=parse_duration(ingest.retention),
            retention_by_type={
                product_type: parse_duration(duration)
                for product_type, duration in ingest.retention_by_type.items()
            },
            work_dir=self.settings.work_dir,
            accept_hardlinks=ingest.accept_hardlinks,
            scan_limits=ScanLimits(
                max_expansion=ingest.max_expansion, timeout_s=ingest.qc_timeout_s
            ),
            trace_algorithm=self.settings.trace.hash_algorithm,
            release_withdrawn=RetentionRepository(self.engine, self._paused_hold).remove_withdrawn,
            objects=self.object_inbox,
        )

    @cached_property
    def downloads(self) -> DownloadHistory:
        stale = timedelta(seconds=self.settings.quotas.download_stale_s)
        return DownloadHistory(self.engine, stale_after=stale)

    @cached_property
    def counters(self) -> RequestCounters:
        return RequestCounters(self.engine)

    @cached_property
    def quotas(self) -> QuotaService:
        return QuotaService(self.downloads, self.settings.quotas)

    @cached_property
    def tokens(self) -> TokenService:
        key = load_or_create_signing_key(self.settings.token_key_file)
        return TokenService(self.settings.auth, key)

    @cached_property
    def user_source(self) -> UserRepository | UserCache:
        """Where authentication reads users: kept in memory on PostgreSQL, which says when
        one changes (db/user_cache.py); read every time on SQLite, which cannot."""
        if self.engine.dialect.name != "postgresql":
            return self.users
        url = self.engine.url.set(drivername="postgresql")
        return UserCache(self.users, url.render_as_string(hide_password=False))

    @cached_property
    def authenticator(self) -> Authenticator:
        return Authenticator(
            self.user_source,
            counters=self.counters,
            tokens=self.tokens,
            failed_logins_per_minute=self.settings.quotas.failed_logins_per_minute,
            cache_seconds=self.settings.api.auth_cache_s,
            passwords=self.users,
            scrypt_n=self.settings.auth.scrypt_n,
        )

    def kpi(self) -> KpiService:
        kpi = self.settings.kpi
        targets = Targets(kpi.timeliness_targets, kpi.completeness_target, kpi.availability_target)
        return KpiService(
            KpiRepository(self.engine),
            QuarantineRepository(self.engine),
            targets,
            KpiHours(self.engine),
            ProbeHours(self.engine),
            OlqcExpected(frozenset(kpi.olqc_types), timedelta(seconds=kpi.olqc_grace_s)),
        )

    def console(self, kpi: KpiService | None = None) -> ConsoleService:
        return ConsoleService(
            kpi or self.kpi(),
            ConsoleRepository(self.engine),
            self.subscriptions,
            self.settings.inbox,
        )

    @property
    def _paused_hold(self) -> timedelta | None:
        """How much outbox history a paused subscription holds: as long as events are kept."""
        return parse_duration(self.settings.roller.events_retention)

    def recorded_quarantine(self) -> RecordedQuarantine:
        objects = self.object_inbox.refused if self.object_inbox else None
        repository = QuarantineRepository(self.engine)
        return RecordedQuarantine(self.settings.quarantine, repository, objects)

    def quarantine(self) -> QuarantineService:
        return QuarantineService(self.recorded_quarantine(), self.settings.inbox)

    def exporter(self) -> CatalogueExporter:
        return CatalogueExporter(
            self.products,
            self.store,
            self.settings.work_dir,
            deleted=self.deleted_products(),
        )

    @cached_property
    def subscriptions(self) -> SubscriptionRepository:
        return SubscriptionRepository(self.engine)

    @cached_property
    def pull_queue(self) -> PullQueue:
        return PullQueue(self.engine)

    def webhook(self) -> Webhook:
        subscriptions = self.settings.subscriptions
        return Webhook(EndpointPolicy(subscriptions.allowed_networks), subscriptions.timeout_s)

    def subscription_service(self) -> SubscriptionService:
        return SubscriptionService(
            self.subscriptions, self.secrets, self.settings.subscriptions, self.webhook()
        )

    @cached_property
    def secrets(self) -> SecretBox:
        return SecretBox(self.settings.subscription_key_file)

    def tracer(self, client: TraceabilityClient | None = None, **overrides: Any) -> Tracer:
        """The Tracer; a ConfigurationError if the signing key or certificate is missing."""
        trace = self.settings.trace
        if trace.signing_key is None or trace.signing_cert is None:
            raise ConfigurationError(
                "the Tracer signs traces: set PRIP_SIGNING_KEY and PRIP_SIGNING_CERT"
            )
        token = trace.token.get_secret_value() if trace.token else None
        return Tracer(
            DeliveryQueue(self.engine, "trace"),
            self.products,
            self.store,
            TraceSigner.from_files(trace.signing_key, trace.signing_cert),
            client or TraceabilityClient(trace.url or "", token, trace.timeout_s),
            **{
                "hash_algorithm": trace.hash_algorithm,
                "batch": trace.batch,
                "concurrency": trace.concurrency,
                "backoff": Backoff(trace.retry_base_s, trace.retry_max_s),
                **overrides,
            },
        )

    def hktm_forwarder(self, **overrides: Any) -> HktmForwarder:
        """The HKTM forwarder; a ConfigurationError if PRIP_FOS_SFTP_URL is unset or wrong."""
        # Imported here: asyncssh costs every process that imports this module 0.2 s of CPU
        # and 15 MB, and only the HKTM forwarder, when configured, talks SFTP.
        from prip_ray.storage.sftp import SftpTarget

        fos = self.settings.fos
        return HktmForwarder(
            DeliveryQueue(self.engine, "hktm"),
            self.products,
            self.store,
            SftpTarget.from_settings(fos),
            fos,
            **overrides,
        )

    def roller(self, **overrides: Any) -> Roller:
        roller = self.settings.roller
        watermark = int(roller.watermark_gb * 1000**3) if roller.watermark_gb else None
        options: dict[str, Any] = {
            "watermark_bytes": watermark,
            "batch": roller.batch,
            "stale_download_s": self.settings.quotas.download_stale_s,
            "fos_types": self.settings.fos.product_types if self.settings.fos.sftp_url else (),
            "retention": RetentionRepository(self.engine, self._paused_hold),
            "offline_retention": parse_duration(roller.offline_retention),
            "deleted_retention": parse_duration(roller.deleted_retention),
            "exported_until": self.exporter().exported_until,
            "quarantine": self.quarantine(),
            "quarantine_retention": parse_duration(self.settings.ingest.quarantine_retention),
            "events": EventPruner(self.engine, self._paused_hold),
            "events_retention": parse_duration(roller.events_retention),
            "outcomes_retention": _tally_retention(self.settings),
        }
        return Roller(EvictionRepository(self.engine), self.store, **{**options, **overrides})

    def deleted_products(self) -> DeletedProductRepository:
        return DeletedProductRepository(self.engine)

    def withdrawer(self) -> Withdrawer:
        return Withdrawer(
            self.products,
            WithdrawalRepository(self.engine),
            EvictionRepository(self.engine),
            self.store,
        )

    def notifier(self, **overrides: Any) -> Notifier:
        subscriptions = self.settings.subscriptions
        if "send" not in overrides:
            policy = EndpointPolicy(subscriptions.allowed_networks)
            overrides["send"] = Webhook(policy, subscriptions.timeout_s).post_json
        return Notifier(
            self.subscriptions,
            self.products,
            self.secrets,
            subscriptions,
            **{"deleted": self.deleted_products(), "pull": self.pull_queue, **overrides},
        )

    def migrate(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        source = self.__dict__.get("user_source")
        if isinstance(source, UserCache):
            source.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def _tally_retention(settings: Settings) -> timedelta | None:
    """OLQC tallies idle this long are pruned (None: never); per-type retentions count."""
    ingest, roller = settings.ingest, settings.roller
    return tally_retention(
        [parse_duration(d) for d in (ingest.retention, *ingest.retention_by_type.values())],
        parse_duration(roller.offline_retention),
        parse_duration(roller.deleted_retention),
    )
