"""The one error tree of prip-ray. No HTTP in here.

PripError
├── InvalidProductName      a file name fits no registered product type
├── InvalidPackage          the product archive or folder cannot be read
├── InvalidMetadata         Inventory_Metadata.xml / manifest.safe missing or malformed
├── QualityCheckFailed      the product was read but fails a QC rule (reason says which)
│   ├── DuplicateProduct    a product with that name is already published
│   └── QcTimeout           inspecting it took longer than ``ingest.qc_timeout_s``
├── IngestFailed            ingestion failed in a way no rule foresaw (a bug, or an input
│                           nobody thought of): quarantined like any refusal, never retried
├── ProductNotFound         no product with that Id (or it is no longer online)
├── InvalidQuery            a malformed or unsupported OData query ($filter, $top, ...)
│   └── EndpointNotAllowed  a NotificationEndpoint that reaches inside (domain/endpoints.py)
├── RangeNotSatisfiable     a Range header that does not fit the product
├── AuthenticationFailed    missing or wrong credentials
├── PermissionDenied        authenticated, but the role does not allow it
├── QuotaExceeded           a download or request quota is used up (retry_after says when)
├── UserExists / UserNotFound
├── Unavailable             a part the PRIP needs is away for now: retry later, lose nothing
│   ├── StorageError        the object store failed (adapters raise it ``from`` the cause)
│   ├── DatabaseUnavailable the PRIP DB cannot be reached, or dropped the connection
│   └── QueryTimeout        a statement ran past the API's statement timeout and was stopped
├── DeliveryFailed          a downstream peer (webhook, Traceability Service, FOS) failed this
│                           attempt (5xx, unreachable, cut): tried again with backoff
├── TraceRefused            the Traceability Service refused a trace (4xx): not retried
├── RemoteConflict          a different file already has this name at FOS: not overwritten
└── ConfigurationError      settings that cannot work together

Adapters translate library errors where they catch them (``raise StorageError(...) from e``);
the HTTP layer maps this tree to status codes in one table (``prip_ray.serve.errors``).
"""

from __future__ import annotations


class PripError(Exception):
    """Base of every error prip-ray raises on purpose."""

    code = "PripError"


class InvalidProductName(PripError):
    code = "InvalidProductName"


class InvalidPackage(PripError):
    code = "InvalidPackage"


class InvalidMetadata(PripError):
    code = "InvalidMetadata"


class QualityCheckFailed(PripError):
    code = "QualityCheckFailed"


class DuplicateProduct(QualityCheckFailed):
    code = "DuplicateProduct"


class QcTimeout(QualityCheckFailed):
    code = "QcTimeout"


class IngestFailed(PripError):
    code = "IngestFailed"


class ProductNotFound(PripError):
    code = "ProductNotFound"


class InvalidQuery(PripError):
    """A query the API cannot answer. ``position`` is the 0-based offset of ``token``."""

    code = "InvalidQuery"

    def __init__(self, message: str, *, token: str | None = None, position: int | None = None):
        super().__init__(message)
        self.token = token
        self.position = position


class EndpointNotAllowed(InvalidQuery):
    code = "EndpointNotAllowed"


class QuotaExceeded(PripError):
    """``retry_after`` is the number of seconds after which trying again makes sense."""

    code = "QuotaExceeded"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class RangeNotSatisfiable(PripError):
    code = "RangeNotSatisfiable"

    def __init__(self, message: str, *, length: int):
        super().__init__(message)
        self.length = length


class AuthenticationFailed(PripError):
    code = "Unauthorized"


class PermissionDenied(PripError):
    code = "Forbidden"


class UserExists(PripError):
    code = "UserExists"


class UserNotFound(PripError):
    code = "UserNotFound"


class Unavailable(PripError):
    """Temporary: the work is retried (ingestion keeps the product in the inbox), an API
    request is answered 503 with Retry-After."""

    code = "ServiceUnavailable"
    retry_after = 5


class StorageError(Unavailable):
    code = "StorageError"


class DatabaseUnavailable(Unavailable):
    code = "DatabaseUnavailable"


class QueryTimeout(Unavailable):
    """Not an outage: retrying the same query will not help, a narrower one will."""

    code = "QueryTimeout"


class ConfigurationError(PripError):
    code = "ConfigurationError"


class DeliveryFailed(PripError):
    code = "DeliveryFailed"


class TraceRefused(PripError):
    code = "TraceRefused"


class RemoteConflict(PripError):
    """A different file already has this name at the peer: not overwritten."""

    code = "RemoteConflict"
