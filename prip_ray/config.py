"""Typed settings, composed from small parts and built once by the CLI or the app builder.

Sources, highest priority first: explicit overrides (CLI flags), environment variables
``PRIP_*`` (nested with ``__``, e.g. ``PRIP_DB__URL``, ``PRIP_STORE__S3__BUCKET``; the
operator-facing names of :data:`FLAT_ENV`, e.g. ``PRIP_TRACE_URL``, stand for nested keys),
then an optional YAML or TOML config file with the same nested keys, then the defaults below
(the embedded default: SQLite and a local folder store under ``data_dir``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from prip_ray.domain.addresses import TrustedProxies
from prip_ray.domain.endpoints import EndpointPolicy
from prip_ray.domain.retention import parse_duration
from prip_ray.errors import ConfigurationError

S3_SCHEME = "s3://"


def _duration(text: str) -> str:
    parse_duration(text)  # raises ValueError with the reason, which pydantic reports
    return text


def masked_url(url: str) -> str:
    """``url`` with its password, in the user part or the query, shown as ``***``."""
    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not colon and not any(k.lower() == "password" for k, _ in pairs):
        return url  # nothing to hide (and sqlite:////path survives as written)
    query = [(k, "***" if k.lower() == "password" else v) for k, v in pairs]
    netloc = f"{user}:***@{host}" if colon else parts.netloc
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*/:@")))


class DbSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the PRIP DB, e.g. postgresql://prip@db/prip; "
        "unset: SQLite file DATA_DIR/prip.db",
    )
    pool_size: int = 5
    echo: bool = False

    def __repr_args__(self) -> Any:
        """repr() and str() of settings (in a log line, a traceback) never show the password."""
        for name, value in super().__repr_args__():
            yield name, masked_url(value) if name == "url" and value else value


class S3Settings(BaseModel):
    endpoint_url: str | None = None  # e.g. http://127.0.0.1:8333
    region: str = "us-east-1"
    bucket: str = "prip"
    prefix: str = ""  # key prefix inside the bucket, e.g. "products/"
    access_key_id: str | None = None  # None: the standard AWS credential chain
    secret_access_key: SecretStr | None = None
    max_attempts: int = 5
    multipart_threshold_mb: int = 64
    multipart_chunk_mb: int = 64


class StoreSettings(BaseModel):
    kind: Literal["local", "s3"] = "local"
    local_root: Path | None = Field(default=None, description="unset: DATA_DIR/store")
    s3: S3Settings = Field(default_factory=S3Settings)


class InboxS3Settings(BaseModel):
    """How an ``s3://`` inbox is reached when it is not on the store's endpoint: each field
    left unset is the store's (``store.s3``)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    quarantine_prefix: str | None = Field(
        default=None, description="where refused objects go; unset: PREFIX/quarantine/"
    )


class IngestSettings(BaseModel):
    inbox: Path | str | None = Field(
        default=None, description="a folder or s3://BUCKET/PREFIX/; unset: DATA_DIR/inbox"
    )
    inbox_s3: InboxS3Settings = Field(default_factory=InboxS3Settings)
    quarantine: Path | None = Field(default=None, description="unset: DATA_DIR/quarantine")
    quarantine_retention: str = Field(
        default="30d",
        description="quarantine entries last seen longer ago are purged, bytes and all (or never)",
    )
    # One shard: it only coordinates; on the 2-core reference machine one shard with two to four
    # QC workers ingested as fast as two with two each (docs/operations.md, the lighter tree).
    shards: int = Field(default=1, ge=1, description="ingestion shard actors")
    qc_workers_min: int = Field(
        default=0,
        ge=0,
        description="QC workers per shard, at least; 0: none while the inbox is empty (the "
        "first product starts one, 30 s without products end it)",
    )
    qc_workers_max: int = Field(default=4, ge=1, description="QC workers per shard, at most")
    qc_worker_cpus: float = Field(default=0.5, gt=0)
    max_in_flight: int = Field(default=8, ge=1, description="products in QC per shard")
    poll_interval_s: float = Field(default=1.0, gt=0)
    publish_batch: int = Field(
        default=32, ge=1, description="products that finished QC published in one transaction"
    )
    publish_wait_ms: float = Field(
        default=20, ge=0, description="longest a product that finished QC waits for others"
    )
    retry_base_s: float = Field(
        default=2.0, gt=0, description="first wait after a storage failure; doubles, max 5 min"
    )
    settle_s: float = Field(
        default=2.0, ge=0, description="a file must be unchanged this long before pick-up"
    )
    max_worker_deaths: int = Field(
        default=3,
        ge=1,
        description="a product whose QC worker dies this many times is quarantined",
    )
    qc_timeout_s: float | None = Field(
        default=600.0,
        gt=0,
        description="reading and hashing one product may take this long, then it is "
        "quarantined (QcTimeout); unset: no bound",
    )
    max_expansion: float = Field(
        default=10.0,
        gt=0,
        description="an archive may unpack to this many times its size (or its Data_Size, "
        "or 64 MB); more is an archive bomb, quarantined",
    )
    accept_hardlinks: bool = Field(
        default=False,
        description="take inbox files that have other names too (hard links); by default "
        "they are quarantined, as a link could publish any file of the PRIP's disk",
    )
    absent_files: Literal["accept", "reject"] = Field(
        default="accept", description="manifest files absent from the package"
    )
    retention: str = Field(
        default="7d", description="EvictionDate = publication + this (s, m, h, d; never)"
    )
    retention_by_type: dict[str, str] = Field(
        default_factory=dict,
        description="per product type (e.g. PRD_HKTM__: 30d), in the config file",
    )

    @field_validator("inbox", mode="before")
    @classmethod
    def _folder_or_s3(cls, value: Any) -> Any:
        """An ``s3://`` URL stays text (as a Path its ``//`` would fold); anything else is
        a folder."""
        if isinstance(value, str) and not value.startswith(S3_SCHEME):
            return Path(value)
        return value

    @field_validator("retention", "quarantine_retention")
    @classmethod
    def _check_retention(cls, value: str) -> str:
        return _duration(value)

    @field_validator("retention_by_type")
    @classmethod
    def _check_retention_by_type(cls, value: dict[str, str]) -> dict[str, str]:
        for duration in value.values():
            _duration(duration)
        return value


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    ingress: Literal["haproxy", "serve"] = Field(
        default="haproxy",
        description="what listens on host:port when `prip-ray up` starts its own Ray: "
        "HAProxy in front of the replicas' own ports (retries a GET a dying replica drops), "
        "or Serve's Python proxy; with no usable HAProxy, Serve's proxy",
    )
    default_top: int = 20
    max_top: int = 1000
    max_skip: int = 10000
    min_replicas: int = Field(
        default=2, ge=1, description="two: one can die while the other answers the retry"
    )
    max_replicas: int = 2
    replica_cpus: float = 0.25
    target_ongoing_requests: float = Field(
        default=8, gt=0, description="Serve autoscaling: requests in flight per replica"
    )
    upscale_delay_s: float = Field(default=10.0, ge=0)
    downscale_delay_s: float = Field(default=120.0, ge=0)
    auth_cache_s: float = Field(default=30.0, description="cache of verified Basic logins")
    download_redirect: bool = Field(
        default=False, description="S3 store: answer $value with 307 to a presigned URL"
    )
    redirect_ttl_s: int = Field(default=600, ge=1, description="lifetime of presigned URLs")
    max_filter_list: int = Field(default=1000, ge=1, description="names per FilterList call")
    statement_timeout_s: float = Field(
        default=10.0,
        ge=0,
        description="PostgreSQL stops an API statement running longer and the request gets "
        "503 QueryTimeout (0: no limit); ingestion and the Roller are not limited",
    )
    entity_cache_entries: int = Field(
        default=10_000,
        ge=0,
        description="encoded products each API replica keeps (about 1 KB each; 0: none)",
    )
    gateway_port: int | None = Field(
        default=None,
        ge=0,
        description="port of the download gateway on every node; unset: API port + 1; "
        "0: any free port (several nodes on one host, tests)",
    )
    download_rate_limit_mb_s: float | None = Field(
        default=None, gt=0, description="bandwidth cap per download in MB/s; unset: none"
    )
    probe_interval_s: float = Field(
        default=30.0, gt=0, description="health probes of the API (availability KPI)"
    )
    probe_url: str | None = Field(
        default=None,
        description="the API's base URL as users reach it (the ingress), which the "
        "availability probe searches through; unset: http://<api host>:<api port>",
    )
    probe_user: str = Field(
        default="prip-probe",
        description="the catalogue user the availability probe searches as (created if absent)",
    )
    gateway_url: str | None = Field(
        default=None,
        description="public base URL of a load balancer in front of every node's download "
        "gateway ($value redirects there); unset: to a live gateway found through Ray, the "
        "answering replica's node's first",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks (CIDR) of the proxies in front of the API whose "
        "X-Forwarded-For is believed, e.g. the ingress controller and Serve's HAProxy; "
        "the failed-login throttle by address then counts real clients",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        TrustedProxies(value)  # ValueError names the entry that is not an address or network
        return value


class RaySettings(BaseModel):
    address: str | None = Field(default=None, description="unset: start a local Ray")
    namespace: str = "prip"
    num_cpus: int | None = None
    detached: bool = Field(
        default=False, description="actors outlive the process that started them (KubeRay)"
    )
    dashboard: bool = False
    service_resources: dict[str, float] = Field(
        default_factory=dict,
        description="custom Ray resources each shard and singleton needs, so they run only on "
        "the nodes that offer them (e.g. off the head node); a JSON object",
    )
    spread_services: bool = Field(
        default=False,
        description="spread shards and singletons over the nodes (Ray's SPREAD strategy): "
        "losing one node restarts fewer of them",
    )


class QuotaSettings(BaseModel):
    """Default quotas of every user (``prip-ray user set-quota`` overrides them per user)."""

    max_parallel: int = Field(default=4, ge=1, description="downloads at once (CDSE: 4)")
    volume_gb: float = Field(default=12_000, gt=0, description="GB per window (CDSE: 12 TB)")
    window_days: int = Field(default=30, ge=1, description="sliding window of the volume quota")
    requests_per_minute: int = Field(default=2000, ge=1)
    failed_logins_per_minute: int = Field(
        default=10, ge=1, description="per user name and per client address, then 429"
    )
    download_stale_s: int = Field(
        default=120, ge=1, description="a download that sends nothing this long frees its slot"
    )
    history_cleaner_interval_s: float = Field(default=3600.0, gt=0)


class OidcSettings(BaseModel):
    """An external OpenID Connect provider (Keycloak) whose access tokens are accepted."""

    issuer: str | None = Field(default=None, description="e.g. https://kc/realms/copernicus")
    jwks_url: str | None = Field(
        default=None, description="unset: <issuer>/protocol/openid-connect/certs"
    )
    audience: str | None = Field(
        default=None,
        description="the aud its tokens must carry for the PRIP (required with issuer): "
        "without it, a token the realm issued to any other client would be accepted",
    )
    username_claim: str = "preferred_username"

    @model_validator(mode="after")
    def _audience_with_issuer(self) -> OidcSettings:
        if self.issuer and not self.audience:
            raise ValueError(
                "auth.oidc.audience (PRIP_AUTH__OIDC__AUDIENCE) is required when "
                "auth.oidc.issuer is set: the client id the provider puts in the aud of "
                "tokens meant for the PRIP"
            )
        return self


class AuthSettings(BaseModel):
    signing_key_file: Path | None = Field(
        default=None, description="PEM private key (EC P-256 or RSA); unset: DATA_DIR/token-key.pem"
    )
    issuer: str = "prip-ray"
    audience: str = "prip-ray"
    token_ttl_s: int = Field(default=3600, ge=60)
    scrypt_log2_n: int = Field(
        default=17,
        ge=10,
        le=20,
        description="cost of stored password hashes as log2 of scrypt's N (17: 128 MiB and "
        "~0.4 s per hash, OWASP's minimum); a login with a cheaper hash stores it again at "
        "this cost. Below 17 only for tests",
    )
    oidc: OidcSettings = Field(default_factory=OidcSettings)

    @property
    def scrypt_n(self) -> int:
        return 1 << self.scrypt_log2_n


class SubscriptionSettings(BaseModel):
    max_running: int = Field(
        default=1, ge=1, description="running subscriptions per user (CDSE: 1)"
    )
    max_total: int = Field(default=10, ge=1, description="subscriptions per user (CDSE: 10)")
    credentials_key_file: Path | None = Field(
        default=None,
        description="Fernet key for endpoint passwords; unset: DATA_DIR/subscription.key",
    )
    poll_interval_s: float = Field(default=0.5, gt=0)
    batch: int = Field(default=500, ge=1, description="outbox events read per round")
    retry_base_s: float = Field(default=1.0, gt=0, description="first wait after a failed POST")
    retry_max_s: float = Field(default=300.0, gt=0)
    fail_after_s: float = Field(
        default=86400.0,
        gt=0,
        description="an endpoint failing this long marks the subscription failed",
    )
    timeout_s: float = Field(
        default=10.0, gt=0, description="per notification POST, connecting to the last byte"
    )
    senders: int = Field(default=8, ge=1, description="notifications in flight at once")
    max_queue_length: int = Field(
        default=100_000,
        ge=1,
        description="notifications a pull subscription keeps unacknowledged (CDSE: 100000); "
        "past it the oldest are dropped",
    )
    allowed_networks: list[str] = Field(
        default_factory=list,
        description="networks (CIDR) endpoints may reach besides public addresses, e.g. "
        '["10.20.0.0/16"] for an on-site subscriber; loopback, private, link-local (cloud '
        "metadata), multicast and reserved addresses are refused otherwise",
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        EndpointPolicy(value)  # ValueError names the entry that is not a network
        return value


class RollerSettings(BaseModel):
    interval: str = Field(default="10m", description="how often the Roller runs (s, m, h, d)")
    watermark_gb: float | None = Field(
        default=None, gt=0, description="evict the oldest products while the store holds more"
    )
    batch: int = Field(default=1000, ge=1, description="products evicted per round at most")
    offline_retention: str = Field(
        default="3d",
        description="an evicted product stays in Products (Online=false) this long, then only "
        "in DeletedProducts (s, m, h, d, or never)",
    )
    deleted_retention: str = Field(
        default="30d",
        description="a DeletedProducts entry is kept this long after the deletion (or never)",
    )

    events_retention: str = Field(
        default="7d",
        description="outbox events and finished trace/FOS deliveries are kept this long once "
        "every reader is past them (or never)",
    )

    @field_validator("offline_retention", "deleted_retention", "events_retention")
    @classmethod
    def _check_retention(cls, value: str) -> str:
        return _duration(value)

    @field_validator("interval")
    @classmethod
    def _check_interval(cls, value: str) -> str:
        if parse_duration(value) is None:
            raise ValueError("the Roller interval must be a duration, not 'never'")
        return value


class TraceSettings(BaseModel):
    """The Tracer: signed traces of every publication and eviction, PUT to the Traceability
    Service."""

    url: str | None = Field(
        default=None, description="Traceability Service base URL; unset: the Tracer is idle"
    )
    token: SecretStr | None = Field(default=None, description="bearer token of the service")
    signing_key: Path | None = Field(default=None, description="PEM private key (RSA or EC)")
    signing_cert: Path | None = Field(default=None, description="PEM X.509 certificate of it")
    hash_algorithm: Literal["BLAKE3", "SHA256", "SHA3"] = "BLAKE3"
    batch: int = Field(default=100, ge=1, description="traces per round at most")
    concurrency: int = Field(default=8, ge=1, description="traces sent at once at most")
    timeout_s: float = Field(default=30.0, gt=0)
    retry_base_s: float = Field(default=2.0, gt=0, description="first wait while it is down")
    retry_max_s: float = Field(default=300.0, gt=0)
    poll_interval_s: float = Field(default=1.0, gt=0)


class FosSettings(BaseModel):
    """The HKTM forwarder: house-keeping telemetry to the Flight Operations Segment by SFTP."""

    sftp_url: str | None = Field(
        default=None,
        description="sftp://user@host:port/remote/dir; unset: the HKTM forwarder is idle",
    )
    password: SecretStr | None = None
    key_file: Path | None = Field(default=None, description="private key for the SFTP login")
    known_hosts: Path | None = Field(
        default=None, description="known_hosts file; unset: ~/.ssh/known_hosts"
    )
    insecure_no_host_check: bool = Field(
        default=False, description="accept any host key (tests and labs only)"
    )
    layout: str = Field(
        default="{name}",
        description="remote path under the directory: {name} {mission} {year} {month} {day} "
        "{doy} (sensing start)",
    )
    product_types: list[str] = Field(default_factory=lambda: ["PRD_HKTM__"])
    verify_readback: bool = Field(
        default=True, description="read the uploaded file back and compare its MD5"
    )
    timeout_s: float = Field(default=30.0, gt=0)
    retry_base_s: float = Field(default=2.0, gt=0)
    retry_max_s: float = Field(default=300.0, gt=0)
    poll_interval_s: float = Field(default=1.0, gt=0)
    batch: int = Field(default=100, ge=1)


class OlqcSettings(BaseModel):
    """What OLQC reports do to the products they inspect (domain/olqc.py, db/olqc.py)."""

    on_failed: Literal["flag", "offline"] = Field(
        default="flag",
        description="a product whose OLQC failed: flag (qualityStatus FAILED only) or offline "
        "(also withdrawn: Online false, a deleted event, its bytes removed by the Roller)",
    )


class LeaseSettings(BaseModel):
    ttl_s: float = Field(
        default=30.0,
        gt=0,
        description="a singleton's lease in the DB; another cluster takes over after this",
    )


class KpiSettings(BaseModel):
    """The contract's KPI targets: the console and the ``prip_kpi_*`` metrics show breaches."""

    timeliness_targets: dict[str, float] = Field(
        default_factory=lambda: {"default": 3600.0},
        description="p95 publication delay allowed per product type, in seconds; "
        "'default' for the types not listed, e.g. MSI_L0__GR: 1800",
    )
    completeness_target: float = Field(
        default=0.99, ge=0, le=1, description="share of received products published, at least"
    )
    availability_target: float = Field(
        default=0.99, ge=0, le=1, description="share of user-journey probes that succeed"
    )
    olqc_types: list[str] = Field(
        default_factory=list,
        description="product types whose products should each have an OLQC report: the "
        "console counts and lists those still without one (none by default), e.g. "
        '["MSI_L0__GR", "MSI_L0__DS"]',
    )
    olqc_grace_s: float = Field(
        default=3600.0,
        ge=0,
        description="how long after a product's publication its OLQC report may arrive "
        "before it counts as missing",
    )
    metrics_window_h: float = Field(
        default=24.0, gt=0, description="the window the prip_kpi_* gauges are computed over"
    )
    metrics_interval_s: float = Field(
        default=300.0, gt=0, description="how often the prip_kpi_* gauges are computed"
    )

    @field_validator("timeliness_targets")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        if any(seconds <= 0 for seconds in value.values()):
            raise ValueError("timeliness targets are positive numbers of seconds")
        return value


class Settings(BaseSettings):
    """All of prip-ray's configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="PRIP_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path("prip-data")
    db: DbSettings = Field(default_factory=DbSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    quotas: QuotaSettings = Field(default_factory=QuotaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    subscriptions: SubscriptionSettings = Field(default_factory=SubscriptionSettings)
    roller: RollerSettings = Field(default_factory=RollerSettings)
    trace: TraceSettings = Field(default_factory=TraceSettings)
    fos: FosSettings = Field(default_factory=FosSettings)
    lease: LeaseSettings = Field(default_factory=LeaseSettings)
    kpi: KpiSettings = Field(default_factory=KpiSettings)
    olqc: OlqcSettings = Field(default_factory=OlqcSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what it is given: load_settings reads the file and the environment it is
        # handed, so building Settings never reads os.environ behind a caller's back.
        return (init_settings,)

    @property
    def db_url(self) -> str:
        return self.db.url or f"sqlite:///{(self.data_dir / 'prip.db').resolve()}"

    @property
    def inbox(self) -> Path:
        """The inbox folder; with an S3 inbox, DATA_DIR/inbox (where a product taken back
        from quarantine goes, and what ``prip-ray up`` creates)."""
        if isinstance(self.ingest.inbox, Path):
            return self.ingest.inbox.resolve()
        return (self.data_dir / "inbox").resolve()

    @property
    def inbox_s3(self) -> S3Settings | None:
        """The S3 inbox as the store's S3 settings with its bucket and prefix, and its own
        endpoint and credentials where set; None when the inbox is a folder."""
        if not isinstance(self.ingest.inbox, str):
            return None
        bucket, _, prefix = self.ingest.inbox.removeprefix(S3_SCHEME).partition("/")
        if not bucket:
            raise ConfigurationError(f"{self.ingest.inbox}: an S3 inbox needs a bucket")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        own = self.ingest.inbox_s3.model_dump(exclude={"quarantine_prefix"}, exclude_none=True)
        return self.store.s3.model_copy(update={**own, "bucket": bucket, "prefix": prefix})

    @property
    def inbox_quarantine_prefix(self) -> str:
        """Where an S3 inbox's refused objects go, in the inbox's bucket."""
        s3 = self.inbox_s3
        own = self.ingest.inbox_s3.quarantine_prefix
        prefix = own if own is not None else f"{s3.prefix if s3 else ''}quarantine/"
        return prefix if prefix.endswith("/") else prefix + "/"

    @property
    def quarantine(self) -> Path:
        return (self.ingest.quarantine or self.data_dir / "quarantine").resolve()

    @property
    def store_root(self) -> Path:
        return (self.store.local_root or self.data_dir / "store").resolve()

    @property
    def subscription_key_file(self) -> Path:
        key = self.subscriptions.credentials_key_file
        return (key or self.data_dir / "subscription.key").resolve()

    @property
    def token_key_file(self) -> Path:
        return (self.auth.signing_key_file or self.data_dir / "token-key.pem").resolve()

    @property
    def work_dir(self) -> Path:
        """Scratch space (folders packed as tar before publication)."""
        return (self.data_dir / "work").resolve()


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigurationError(f"cannot read config file {path}: {e}") from e
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as e:
        raise ConfigurationError(f"config file {path} is not valid: {e}") from e
    if not isinstance(data, dict):
        raise ConfigurationError(f"config file {path} must hold a mapping at the top")
    return data


# The names operators set, as the interface documents them, for nested settings.
FLAT_ENV: dict[str, tuple[str, str]] = {
    "PRIP_TRACE_URL": ("trace", "url"),
    "PRIP_TRACE_TOKEN": ("trace", "token"),
    "PRIP_SIGNING_KEY": ("trace", "signing_key"),
    "PRIP_SIGNING_CERT": ("trace", "signing_cert"),
    "PRIP_FOS_SFTP_URL": ("fos", "sftp_url"),
    "PRIP_FOS_SFTP_PASSWORD": ("fos", "password"),
    "PRIP_FOS_SFTP_KEY": ("fos", "key_file"),
    "PRIP_FOS_KNOWN_HOSTS": ("fos", "known_hosts"),
    "PRIP_RETENTION": ("ingest", "retention"),
    "PRIP_ROLLER_INTERVAL": ("roller", "interval"),
}


def _flat_environment(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    nested: dict[str, dict[str, str]] = {}
    for variable, (section, key) in FLAT_ENV.items():
        if variable in environ:
            nested.setdefault(section, {})[key] = environ[variable]
    return nested


def _merge(low: dict[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


class _EnvironSource(EnvSettingsSource):
    """The ``PRIP_*`` variables of the environment it is given (``os.environ`` is only the
    default), parsed as pydantic-settings parses its own: nested with ``__``, JSON for
    lists and mappings."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ  # before super(), which reads the variables
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Names are case-insensitive, as Settings' model_config leaves them.
        return {name.lower(): value for name, value in self._environ.items()}


def load_settings(
    config_file: Path | None = None, *, environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Settings from overrides > ``PRIP_*`` variables of ``environ`` (default: this process's
    environment) > config file > defaults."""
    environ = os.environ if environ is None else environ
    file_data = _read_config_file(config_file) if config_file else {}
    # The flat names rank with the environment: above the file, below nested PRIP_X__Y.
    data = _merge(file_data, _flat_environment(environ))
    try:
        data = _merge(data, _EnvironSource(Settings, environ)())
        data = _merge(data, {k: v for k, v in overrides.items() if v is not None})
        # The sources were read above, from ``environ``; Settings itself reads none.
        return Settings.model_validate(data)
    except ValueError as e:
        raise ConfigurationError(str(e)) from e


def settings_help() -> str:
    """Every setting as its environment variable, for ``prip-ray up --help``."""
    lines = ["Settings (environment variables; the same nested keys in --config):"]
    lines += [
        f"{flat}: same as PRIP_{a.upper()}__{b.upper()}." for flat, (a, b) in FLAT_ENV.items()
    ]
    lines += _field_lines(Settings, "PRIP_")
    return "\n\n".join(lines)


def _field_lines(model: type[BaseModel], prefix: str) -> list[str]:
    lines = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines += _field_lines(annotation, f"{prefix}{name.upper()}__")
            continue
        default = info.get_default(call_default_factory=True)
        about = f" {info.description}." if info.description else ""
        lines.append(f"{prefix}{name.upper()}:{about} [default: {default}]")
    return lines
