"""Small interfaces the services depend on; ``db/`` and ``storage/`` implement them
(structurally: no adapter inherits from a port, mypy checks they fit where bootstrap wires
them), and ``tests/unit/fakes.py`` fakes them."""

from prip_ray.ports.archive import CatalogueRetention as CatalogueRetention
from prip_ray.ports.archive import EventPruning as EventPruning
from prip_ray.ports.archive import EvictedBytes as EvictedBytes
from prip_ray.ports.archive import Evictions as Evictions
from prip_ray.ports.archive import QuarantineTidying as QuarantineTidying
from prip_ray.ports.archive import Withdrawals as Withdrawals
from prip_ray.ports.catalogue import DeletedProducts as DeletedProducts
from prip_ray.ports.catalogue import DeletionHistory as DeletionHistory
from prip_ray.ports.catalogue import ProductCatalogue as ProductCatalogue
from prip_ray.ports.catalogue import ProductHistory as ProductHistory
from prip_ray.ports.counters import MinuteCounters as MinuteCounters
from prip_ray.ports.deliveries import DeliveryQueue as DeliveryQueue
from prip_ray.ports.deliveries import FosSession as FosSession
from prip_ray.ports.deliveries import FosTarget as FosTarget
from prip_ray.ports.deliveries import TraceService as TraceService
from prip_ray.ports.downloads import CounterPurge as CounterPurge
from prip_ray.ports.downloads import DownloadHistoryPurge as DownloadHistoryPurge
from prip_ray.ports.downloads import DownloadRecords as DownloadRecords
from prip_ray.ports.downloads import QuotaWindows as QuotaWindows
from prip_ray.ports.ingest import IngestJournal as IngestJournal
from prip_ray.ports.ingest import ProductPublisher as ProductPublisher
from prip_ray.ports.ingest import Quarantine as Quarantine
from prip_ray.ports.kpi import ConsoleFigures as ConsoleFigures
from prip_ray.ports.kpi import KpiRecords as KpiRecords
from prip_ray.ports.kpi import ProbeRecords as ProbeRecords
from prip_ray.ports.kpi import QuarantineLog as QuarantineLog
from prip_ray.ports.kpi import QuarantineRecords as QuarantineRecords
from prip_ray.ports.kpi import StoredProbeHours as StoredProbeHours
from prip_ray.ports.kpi import StoredRollups as StoredRollups
from prip_ray.ports.sources import ProductSource as ProductSource
from prip_ray.ports.storage import ObjectStore as ObjectStore
from prip_ray.ports.subscriptions import PullQueueStore as PullQueueStore
from prip_ray.ports.subscriptions import SubscriptionListing as SubscriptionListing
from prip_ray.ports.subscriptions import SubscriptionRecords as SubscriptionRecords
from prip_ray.ports.subscriptions import SubscriptionStore as SubscriptionStore
from prip_ray.ports.subscriptions import WebhookSender as WebhookSender
