"""The PRIP DB schema as SQLAlchemy Core tables (PostgreSQL in production, SQLite embedded).

Migrations in ``prip_ray/db/migrations`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are UTC everywhere; stored naive in UTC so SQLite compares them correctly."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        when: datetime = value
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

products = Table(
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("product_type", String(64), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("content_length", BigInteger, nullable=False),
    Column("origin_date", UtcDateTime, nullable=False),
    Column("publication_date", UtcDateTime, nullable=False),
    Column("eviction_date", UtcDateTime, nullable=False),
    Column("modification_date", UtcDateTime, nullable=False),
    Column("content_start", UtcDateTime, nullable=False),
    Column("content_end", UtcDateTime, nullable=False),
    Column("online", Boolean, nullable=False, default=True),
    Column("production_type", String(32), nullable=False),
    Column("object_key", String(1024), nullable=False),
    # Checksums as published: [{"Algorithm", "Value", "ChecksumDate"}]; MD5 also in its own
    # column so a re-delivered product can be recognised without parsing JSON.
    Column("checksums", JSON, nullable=False),
    Column("md5", String(32), nullable=False),
    Column("footprint", JSON, nullable=True),  # GeoJSON geometry
    # Bounding box of the footprint, for an index-assisted first pass of Intersects.
    Column("min_lon", Float, nullable=True),
    Column("min_lat", Float, nullable=True),
    Column("max_lon", Float, nullable=True),
    Column("max_lat", Float, nullable=True),
    Index(None, "publication_date", "id"),
    Index(None, "modification_date", "id"),  # the catalogue export's keyset walk
    # startswith(Name, ...) as an index range scan on PostgreSQL whatever the DB collation.
    # The name and ContentDate indexes carry the default sort keys (PostgreSQL's INCLUDE),
    # so a search picks its page from the index alone (migration 0008).
    Index(
        "ix_products_name_pattern",
        "name",
        postgresql_ops={"name": "text_pattern_ops"},
        postgresql_include=["publication_date", "id"],
    ),
    Index(None, "content_start", postgresql_include=["content_end", "publication_date", "id"]),
    Index(None, "content_end", postgresql_include=["content_start", "publication_date", "id"]),
    Index(None, "product_type"),
    # productType with ContentDate, answered from the index alone (migration 0009)
    Index(
        None,
        "product_type",
        "content_start",
        postgresql_include=[
            "content_end",
            "publication_date",
            "id",
            "name",
            "min_lon",
            "min_lat",
            "max_lon",
            "max_lat",
        ],
    ),
    Index(None, "eviction_date"),
)

attributes = Table(
    "attributes",
    metadata,
    Column(
        "product_id",
        Uuid,
        ForeignKey("products.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(64), primary_key=True),
    Column("value_type", String(16), nullable=False),
    # One typed column per OData attribute subtype, so comparisons use the right ordering.
    Column("string_value", Text, nullable=True),
    Column("integer_value", BigInteger, nullable=True),
    Column("double_value", Float, nullable=True),
    Column("boolean_value", Boolean, nullable=True),
    Column("datetime_value", UtcDateTime, nullable=True),
    Index(None, "name", "string_value"),
    Index(None, "name", "integer_value"),
    Index(None, "name", "double_value"),
    Index(None, "name", "datetime_value"),
)

# What a product's traces certify (the trace algorithm's hash of the object and of each tar
# member), computed at ingestion in the read QC makes anyway, so the Tracer never reads the
# bytes again. Beside the products table, not in it: searches load whole product rows, and
# a granule lists hundreds of members. Products published before migration 0012 have none.
trace_digests = Table(
    "trace_digests",
    metadata,
    Column(
        "product_id",
        Uuid,
        ForeignKey("products.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("algorithm", String(16), nullable=False),  # BLAKE3 | SHA256 | SHA3
    Column("size", BigInteger, nullable=False),
    Column("hash", String(128), nullable=False),
    Column("contents", JSON, nullable=False),  # [{"path", "hash"}], tar members in order
)

# The members of each product's package, recorded at ingestion for its Nodes: one row per
# product, the list as JSON ([path, size, offset, folder], and the compressed length of a
# deflated zip member, each), because a listing always
# reads a whole product's and a granule has hundreds of members (one row each would cost
# the publication's insert and the table's size many times over). ``offset``: where a
# member's bytes start in the tar stream (decompressed for tar.gz) or the zip; a Node
# download of a plain tar or a zip reads just that range. Products published before
# migration 0018 have none.
product_nodes = Table(
    "product_nodes",
    metadata,
    Column(
        "product_id",
        Uuid,
        ForeignKey("products.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("format", String(16), nullable=False),  # tar | tar.gz | zip | file
    Column("members", JSON, nullable=False),
)

# A product's assets (domain/assets.py): its quicklook, a member of its package (or of
# ``source_id``'s: a tile's borrowed TC image), by an Id of its own (``Assets(<Id>)/$value``).
assets = Table(
    "assets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "product_id",
        Uuid,
        ForeignKey("products.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("type", String(32), nullable=False),  # QUICKLOOK
    Column("path", Text, nullable=False),
    Column(  # indexed: deleting a product finds the assets borrowed from it
        "source_id",
        Uuid,
        ForeignKey("products.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
)

# Tiles and true-colour (TC) products by their sensing key (domain/true_colour.py): every
# TC product, and each tile with no preview of its own until a TC product lends it one
# (db/true_colour.py). Looked up by key in the publication's transaction.
true_colour_keys = Table(
    "true_colour_keys",
    metadata,
    Column(
        "product_id",
        Uuid,
        ForeignKey("products.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(64), nullable=False, index=True),
    Column("true_colour", Boolean, nullable=False),  # False: a tile waiting for its image
)

# The longest sensing period (ContentDate End - Start, seconds) of each product type ever
# published: a search for products whose period meets [start, end] (STAC's datetime) may
# then also say Start >= start - longest, which the ContentDate/Start index answers. Raised
# in the publication's transaction (db/spans.py), never lowered: eviction leaves it an
# upper bound, which is all the search needs.
sensing_spans = Table(
    "sensing_spans",
    metadata,
    Column("product_type", String(64), primary_key=True),
    Column("longest_s", Float, nullable=False),
)

# What the OLQC reports said about each product they inspected, by that product's name
# without package extension (domain/olqc.py: inspected_key), whether or not the product is
# published yet: its qualityStatus follows from these counts at publication, or when a
# report arrives after it (db/olqc.py, in the publication's transaction).
olqc_outcomes = Table(
    "olqc_outcomes",
    metadata,
    Column("inspected", String(255), primary_key=True),
    Column("passed", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The products of the types kpi.olqc_types names that no OLQC report has reached yet: listed
# in the publication's transaction, removed when a report arrives (db/olqc.py) or the
# product leaves Products. Only those still waiting are here, so the KPIs count them
# without reading the catalogue (db/kpi.py: unreported).
olqc_awaited = Table(
    "olqc_awaited",
    metadata,
    Column(
        "product_id",
        Uuid,
        ForeignKey("products.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(255), nullable=False),
    Column("product_type", String(64), nullable=False),
    Column("publication_date", UtcDateTime, nullable=False),
    Index(None, "publication_date"),
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(32), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Per-user quota overrides; NULL means the configured default applies.
    Column("max_parallel", Integer, nullable=True),
    Column("volume_bytes", BigInteger, nullable=True),
    Column("window_days", Integer, nullable=True),
    Column("requests_per_minute", Integer, nullable=True),
)

# Download history: the source of truth for the volume quota and the parallel-download slots
# (a row is "active" until its stream ends). Shared by every replica through the DB.
downloads = Table(
    "downloads",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("product_name", String(255), nullable=False),
    Column("bytes_sent", BigInteger, nullable=False, default=0),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    # Last time bytes went out: an "active" download that stops progressing frees its slot.
    Column("progress_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # active | completed | aborted | redirected
    Index(None, "user_name", "status"),
    Index(None, "user_name", "started_at"),
    Index(None, "started_at"),
)

# Requests per user and minute (rate quota), and failed logins per user or address.
request_counts = Table(
    "request_counts",
    metadata,
    Column("subject", String(128), primary_key=True),  # "user:<name>" or "fail:<name|addr>"
    Column("minute", UtcDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
)

# Intent log of the ingestor: a row is written before bytes go to the object store, so that
# after a crash recovery knows which objects may be orphans and which inbox files are done.
ingestions = Table(
    "ingestions",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("object_key", String(1024), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("state", String(16), nullable=False),  # "storing" | "published"
    Column("source", String(2048), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime, nullable=False),
)


# Every publication (and eviction) appends here in the same transaction as the product row:
# the notifier reads it in order, so no event is lost when an actor dies.
outbox = Table(
    "outbox",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("product_id", Uuid, nullable=False),
    Column("event", String(16), nullable=False),  # created | deleted
    Column("created_at", UtcDateTime, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # running | paused | cancelled | failed
    Column("event", String(16), nullable=False),  # created | deleted
    Column("filter_param", Text, nullable=False),
    Column("endpoint", String(2048), nullable=False),
    Column("endpoint_username", String(256), nullable=True),
    Column("endpoint_password", Text, nullable=True),  # encrypted (Fernet), never returned
    Column("submission_date", UtcDateTime, nullable=False),
    Column("last_notification_date", UtcDateTime, nullable=True),
    Column("cursor", BigInteger, nullable=False),  # last outbox seq handled
    Column("failing_since", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index(None, "owner"),
    Index(None, "status"),
)

# A pull subscription's notifications, as the notifier made them, until its owner reads and
# acknowledges them (domain/pull.py); at most subscriptions.max_queue_length each, the
# oldest dropped first and counted in pull_queues.
pull_queue = Table(
    "pull_queue",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column(
        "subscription_id",
        Uuid,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("body", JSON, nullable=False),  # the notification, without its AckId
    Index(None, "subscription_id", "id"),
)

# Each pull queue's length (kept here, so that bounding it costs no count) and how many
# notifications a full queue dropped (for operators and owners).
pull_queues = Table(
    "pull_queues",
    metadata,
    Column(
        "subscription_id",
        Uuid,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("length", BigInteger, nullable=False),
    Column("dropped", BigInteger, nullable=False),
)

# Where each outbox reader other than the subscriptions has got to (the Tracer, the HKTM
# forwarder): advanced in the same transaction that queues its deliveries.
consumers = Table(
    "consumers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("cursor", BigInteger, nullable=False),
)

# One row per thing to send downstream (a trace to the Traceability Service, an HKTM product
# to FOS), unique per channel and outbox event so that nothing is queued or sent twice.
# state: pending -> sending (an attempt may have reached the peer) -> done | refused.
deliveries = Table(
    "deliveries",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("channel", String(16), nullable=False),  # trace | hktm
    Column("outbox_seq", BigInteger, nullable=False),
    Column("product_id", Uuid, nullable=False),
    Column("product_name", String(255), nullable=False),
    Column("event", String(16), nullable=False),  # created | deleted
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("detail", JSON, nullable=True),  # the signed trace; the remote path at FOS
    Index("uq_deliveries_channel_outbox_seq", "channel", "outbox_seq", unique=True),
    Index(None, "channel", "state", "id"),
    Index(None, "channel", "product_id"),
)

# Leases keep two instances of one singleton (two clusters side by side during an upgrade)
# from working at once: a holder renews before expiry, anyone may take an expired lease.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Health probes of the API (the availability KPI): one row per probe.
health_probes = Table(
    "health_probes",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("detail", Text, nullable=True),
    Index(None, "at"),
)

# The KPIs of each hour and product type, rolled up once the hour is over (the console reads
# a month from these instead of a million products); a row of product type "*" marks an hour
# rolled up, with or without products. See domain/kpi_rollup.py.
kpi_hours = Table(
    "kpi_hours",
    metadata,
    Column("hour", UtcDateTime, primary_key=True),
    Column("product_type", String(64), primary_key=True),
    Column("published", Integer, nullable=False),
    Column("p50_s", Float, nullable=False),
    Column("p95_s", Float, nullable=False),
    Column("max_s", Float, nullable=False),
    Column("bins", JSON, nullable=False),  # histogram counts on DELAY_EDGES
    Column("buckets", JSON, nullable=False),  # {"bucket": [count, largest delay]}
    Column("strips", JSON, nullable=False),  # {"key": [datastrip, published, granules, [Dnn]]}
)

# The delay buckets of each whole day and product type, the kpi_hours rows of its 24 hours
# merged (domain/kpi_rollup.merged_buckets): written for every type of a day at once, by
# the health prober rolling up ahead; percentiles over a month read 30 of these, not 720.
kpi_days = Table(
    "kpi_days",
    metadata,
    Column("day", UtcDateTime, primary_key=True),
    Column("product_type", String(64), primary_key=True),
    Column("published", Integer, nullable=False),
    Column("buckets", JSON, nullable=False),  # {"bucket": [count, largest delay]}
)

# The probes of each past hour (services/probe_history.py): good and failed counts, and the
# probes whose outcome differs from the one before (the first of a rolled-up span too), all
# that the availability ratio, outages and timeline are computed from.
kpi_probe_hours = Table(
    "kpi_probe_hours",
    metadata,
    Column("hour", UtcDateTime, primary_key=True),
    Column("good", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("changes", JSON, nullable=False),  # [[iso time, ok], ...] in time order
)

# DeletedProducts (CDSE's entity set): a product evicted or withdrawn, as it was, with when and
# why. Written in the transaction that takes the product offline; it outlives the product's
# row in ``products`` (roller.deleted_retention). Same columns as ``products`` so that one
# search (db/deleted.py) and one row mapping (db/rows.py) serve both; a name is not unique
# here, as a withdrawn product may be delivered again and withdrawn again.
deleted_products = Table(
    "deleted_products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("product_type", String(64), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("content_length", BigInteger, nullable=False),
    Column("origin_date", UtcDateTime, nullable=False),
    Column("publication_date", UtcDateTime, nullable=False),
    Column("eviction_date", UtcDateTime, nullable=False),
    Column("modification_date", UtcDateTime, nullable=False),
    Column("content_start", UtcDateTime, nullable=False),
    Column("content_end", UtcDateTime, nullable=False),
    Column("online", Boolean, nullable=False, default=False),
    Column("production_type", String(32), nullable=False),
    Column("object_key", String(1024), nullable=False),
    Column("checksums", JSON, nullable=False),
    Column("md5", String(32), nullable=False),
    Column("footprint", JSON, nullable=True),
    Column("min_lon", Float, nullable=True),
    Column("min_lat", Float, nullable=True),
    Column("max_lon", Float, nullable=True),
    Column("max_lat", Float, nullable=True),
    Column("deletion_date", UtcDateTime, nullable=False),
    Column("deletion_cause", String(255), nullable=False),
    Index(None, "deletion_date", "id"),
    Index(None, "name"),
    Index(None, "publication_date", "id"),
)

deleted_attributes = Table(
    "deleted_attributes",
    metadata,
    Column(
        "product_id",
        Uuid,
        ForeignKey("deleted_products.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(64), primary_key=True),
    Column("value_type", String(16), nullable=False),
    Column("string_value", Text, nullable=True),
    Column("integer_value", BigInteger, nullable=True),
    Column("double_value", Float, nullable=True),
    Column("boolean_value", Boolean, nullable=True),
    Column("datetime_value", UtcDateTime, nullable=True),
)

# Products the QC refused, one row per name, beside their files in the quarantine folder
# (services/quarantine.py keeps the two in step): what operators list, retry and purge, and
# what the completeness KPI counts.
quarantine = Table(
    "quarantine",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("code", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("times", Integer, nullable=False),  # rejections of this name so far
    Column("size", BigInteger, nullable=False),
    Column("location", String(2048), nullable=False),  # the quarantined file or folder
    Index(None, "last_seen"),
)
