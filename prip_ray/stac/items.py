"""Products as STAC Items, and the STAC API's own documents (landing page, conformance,
collections, item collections), as plain dicts. ``base`` is the server's URL as the client
reached it (no trailing slash); every link is absolute.

An Item's assets are the product's bytes (``$value``, the same download, roles and quotas
as OData), its OData entity with attributes (the metadata) and, when it has one, its
quicklook (OData's QUICKLOOK Asset, ``Assets(<Id>)/$value``) as the thumbnail. Properties
are what the attributes say, under the names STAC's common metadata and the ``sat`` and
``processing`` extensions give them; ``eo:cloud_cover`` only where the product has a cloudCover.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from prip_ray.domain.assets import QUICKLOOK, Asset
from prip_ray.domain.products import Product
from prip_ray.odata.serialize import odata_datetime
from prip_ray.stac.collections import StacCollection

STAC_VERSION = "1.1.0"
SAT = "https://stac-extensions.github.io/sat/v1.0.0/schema.json"
PROCESSING = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
EO = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
CONFORMANCE = (
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
GEOJSON = "application/geo+json"
JSON = "application/json"
LICENSE = "https://sentinels.copernicus.eu/documents/247904/690755/Sentinel_Data_Legal_Notice"


def landing_page(base: str, collections: Iterable[StacCollection]) -> dict[str, Any]:
    stac = f"{base}/stac"
    links = [
        _link("self", f"{stac}/", JSON),
        _link("root", f"{stac}/", JSON),
        _link("conformance", f"{stac}/conformance", JSON),
        _link("data", f"{stac}/collections", JSON),
        {**_link("search", f"{stac}/search", GEOJSON), "method": "GET"},
        {**_link("search", f"{stac}/search", GEOJSON), "method": "POST"},
    ]
    links += [_link("child", f"{stac}/collections/{c.id}", JSON, c.title) for c in collections]
    return {
        "type": "Catalog",
        "stac_version": STAC_VERSION,
        "id": "prip-ray",
        "title": "prip-ray PRIP",
        "description": "The products of this Production Interface Delivery Point, as STAC",
        "conformsTo": list(CONFORMANCE),
        "links": links,
    }


def collection_json(base: str, collection: StacCollection) -> dict[str, Any]:
    stac = f"{base}/stac"
    own = f"{stac}/collections/{collection.id}"
    types = [*collection.file_types, *(f"{p}*" for p in collection.type_prefixes)]
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": collection.id,
        "title": collection.title,
        "description": (
            f"{collection.mission} {collection.category} products published by this PRIP "
            f"(product types {', '.join(types)})"
        ),
        "license": "other",
        # Honest without reading the catalogue: the globe, and no bound in time.
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[None, None]]},
        },
        "summaries": {
            "constellation": [collection.mission.lower()],
            **(
                {"processing:level": [_level(v) for v in collection.levels]}
                if collection.levels
                else {}
            ),
        },
        "links": [
            _link("self", own, JSON),
            _link("root", f"{stac}/", JSON),
            _link("parent", f"{stac}/", JSON),
            _link("items", f"{own}/items", GEOJSON),
            _link("license", LICENSE, "application/pdf", "Sentinel data legal notice"),
        ],
    }


def collections_json(base: str, collections: Iterable[StacCollection]) -> dict[str, Any]:
    stac = f"{base}/stac"
    return {
        "collections": [collection_json(base, c) for c in collections],
        "links": [
            _link("self", f"{stac}/collections", JSON),
            _link("root", f"{stac}/", JSON),
            _link("parent", f"{stac}/", JSON),
        ],
    }


def item_json(base: str, product: Product, collection: StacCollection | None) -> dict[str, Any]:
    attributes = {a.name: a.value for a in product.attributes}
    properties = _properties(product, attributes)
    extensions = [SAT, PROCESSING] + ([EO] if "eo:cloud_cover" in properties else [])
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [e for e in extensions if _uses(e, properties)],
        "id": product.name,
        "geometry": product.footprint.geojson if product.footprint else None,
    }
    if product.footprint is not None:
        item["bbox"] = _bbox(product.footprint.bbox)
    item["properties"] = properties
    item["links"] = _item_links(base, product, collection)
    item["assets"] = _assets(base, product)
    if collection is not None:
        item["collection"] = collection.id
    return item


def item_collection(features: list[bytes], links: list[dict[str, Any]]) -> tuple[bytes, bytes]:
    """The head and tail of a FeatureCollection around ``features`` (each already JSON)."""
    head = b'{"type":"FeatureCollection","features":['
    tail = b'],"links":' + orjson.dumps(links)
    tail += b',"numberReturned":' + str(len(features)).encode() + b"}"
    return head, tail


def search_links(base: str, page_url: str, next_query: Mapping[str, str] | None) -> list[Any]:
    """Links of a GET search page (``page_url``, without its query): root, and ``next``
    when more follow."""
    links = [_link("root", f"{base}/stac/", JSON)]
    if next_query is not None:
        links.append(_link("next", f"{page_url}?{urlencode(next_query)}", GEOJSON))
    return links


def post_links(base: str, next_body: dict[str, Any] | None) -> list[Any]:
    """Links of a POST search page; ``next`` repeats the POST with the next token."""
    links = [_link("root", f"{base}/stac/", JSON)]
    if next_body is not None:
        nxt = _link("next", f"{base}/stac/search", GEOJSON)
        links.append({**nxt, "method": "POST", "body": next_body, "merge": False})
    return links


def _properties(product: Product, attributes: dict[str, Any]) -> dict[str, Any]:
    start, end = product.content_date.start, product.content_date.end
    properties: dict[str, Any] = {
        "datetime": _when(start),
        "start_datetime": _when(start),
        "end_datetime": _when(end),
        "created": _when(product.publication_date),
        "updated": _when(product.modification_date),
    }
    platform = attributes.get("platformShortName")
    if isinstance(platform, str):
        properties["constellation"] = platform.lower()
        serial = attributes.get("platformSerialIdentifier")
        properties["platform"] = f"{platform}{serial or ''}".lower()
    instrument = attributes.get("instrumentShortName")
    if isinstance(instrument, str):
        properties["instruments"] = [instrument.lower()]
    level = attributes.get("processingLevel")
    if isinstance(level, str):
        properties["processing:level"] = _level(level)
    for stac, name in (
        ("processing:facility", "processingCenter"),
        ("processing:version", "processorVersion"),
    ):
        if isinstance(attributes.get(name), str):
            properties[stac] = attributes[name]
    orbit = attributes.get("orbitNumber")
    if isinstance(orbit, int) and orbit >= 1:
        properties["sat:absolute_orbit"] = orbit
    relative = attributes.get("relativeOrbitNumber")
    if isinstance(relative, int) and relative >= 1:
        properties["sat:relative_orbit"] = relative
    direction = attributes.get("orbitDirection")
    if direction in ("ASCENDING", "DESCENDING"):
        properties["sat:orbit_state"] = str(direction).lower()
    cloud = attributes.get("cloudCover")
    if isinstance(cloud, (int, float)) and not isinstance(cloud, bool) and 0 <= cloud <= 100:
        properties["eo:cloud_cover"] = float(cloud)
    properties["product_type"] = product.product_type
    properties["online"] = product.online
    return properties


def _uses(extension: str, properties: dict[str, Any]) -> bool:
    prefix = {SAT: "sat:", PROCESSING: "processing:", EO: "eo:"}[extension]
    return any(name.startswith(prefix) for name in properties)


def _item_links(
    base: str, product: Product, collection: StacCollection | None
) -> list[dict[str, Any]]:
    links = [_link("root", f"{base}/stac/", JSON)]
    if collection is not None:
        own = f"{base}/stac/collections/{collection.id}"
        links += [
            _link("self", f"{own}/items/{quote(product.name)}", GEOJSON),
            _link("parent", own, JSON),
            _link("collection", own, JSON),
        ]
    return links


def _assets(base: str, product: Product) -> dict[str, Any]:
    entity = f"{base}/odata/v1/Products({product.id})"
    product_asset: dict[str, Any] = {
        "href": f"{entity}/$value",
        "type": product.content_type,
        "title": product.name,
        "roles": ["data"],
    }
    found: dict[str, Any] = {
        "product": product_asset,
        "metadata": {
            "href": f"{entity}?$expand=Attributes",
            "type": JSON,
            "title": "OData entity with attributes",
            "roles": ["metadata"],
        },
    }
    for asset in product.assets:
        if asset.type == QUICKLOOK:
            found["thumbnail"] = _quicklook(base, asset)
    return found


def _quicklook(base: str, asset: Asset) -> dict[str, Any]:
    media_type = mimetypes.guess_type(asset.path)[0] or "application/octet-stream"
    return {
        "href": f"{base}/odata/v1/Assets({asset.id})/$value",
        "type": media_type,
        "title": "Quicklook",
        "roles": ["thumbnail", "overview"],
    }


def _level(level: str) -> str:
    """``Level-1C`` → ``L1C``, as STAC's processing extension writes levels."""
    return "L" + level.removeprefix("Level-") if level.startswith("Level-") else level


def _when(value: datetime) -> str:
    return odata_datetime(value)


def _bbox(bbox: tuple[float, float, float, float]) -> list[float]:
    west, south, east, north = bbox
    if east > 180:  # an unwrapped box across the antimeridian: STAC's west > east form
        east -= 360
    return [west, south, east, north]


def _link(rel: str, href: str, media_type: str, title: str | None = None) -> dict[str, Any]:
    link = {"rel": rel, "href": href, "type": media_type}
    if title is not None:
        link["title"] = title
    return link
