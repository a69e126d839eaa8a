"""The service document and the CSDL of the OData.CSC model, as XML and as JSON.

One description (``MODEL``) renders to both forms, so they cannot drift apart. Generic OData
clients build their model from this: every type the API returns is declared here. Enum
members must be identifiers, so ``on-demand default`` is declared ``on_demand_default`` (the
filter parser accepts either spelling).
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import quoteattr

NAMESPACE = "OData.CSC"
_DT = {"Type": "Edm.DateTimeOffset", "Precision": 6}

# name -> {"kind": ..., ...}; properties as (name, {facets}) in declaration order.
MODEL: dict[str, dict[str, Any]] = {
    "ProductionType": {
        "kind": "EnumType",
        "members": ["systematic_production", "on_demand_default", "on_demand_non_default"],
    },
    # failed: the notifier gave up on the endpoint (subscriptions.fail_after_s)
    "SubscriptionStatus": {
        "kind": "EnumType",
        "members": ["running", "paused", "cancelled", "failed"],
    },
    "SubscriptionEvent": {"kind": "EnumType", "members": ["created", "deleted"]},
    "Checksum": {
        "kind": "ComplexType",
        "properties": [
            ("Algorithm", {"Type": "Edm.String"}),
            ("Value", {"Type": "Edm.String"}),
            ("ChecksumDate", _DT),
        ],
    },
    "TimeRange": {"kind": "ComplexType", "properties": [("Start", _DT), ("End", _DT)]},
    "FilterProduct": {"kind": "ComplexType", "properties": [("Name", {"Type": "Edm.String"})]},
    "Product": {
        "kind": "EntityType",
        "key": "Id",
        "HasStream": True,
        "properties": [
            ("Id", {"Type": "Edm.Guid", "Nullable": False}),
            ("Name", {"Type": "Edm.String"}),
            ("ContentType", {"Type": "Edm.String"}),
            ("ContentLength", {"Type": "Edm.Int64"}),
            ("OriginDate", _DT),
            ("PublicationDate", _DT),
            ("ModificationDate", _DT),
            ("EvictionDate", _DT),
            ("Online", {"Type": "Edm.Boolean"}),
            ("Checksum", {"Type": "Collection(OData.CSC.Checksum)"}),
            ("ContentDate", {"Type": "OData.CSC.TimeRange"}),
            ("ProductionType", {"Type": "OData.CSC.ProductionType"}),
            ("Footprint", {"Type": "Edm.Geography", "SRID": "4326"}),
            ("GeoFootprint", {"Type": "Edm.Untyped"}),
        ],
        "navigation": [
            ("Attributes", "Collection(OData.CSC.Attribute)"),
            ("Quicklooks", "Collection(OData.CSC.Quicklook)"),
            ("Assets", "Collection(OData.CSC.Asset)"),
            ("Nodes", "Collection(OData.CSC.Node)"),
        ],
    },
    # CDSE's DeletedProducts: a product evicted or withdrawn, with when and why.
    "DeletedProduct": {
        "kind": "EntityType",
        "BaseType": "OData.CSC.Product",
        "properties": [("DeletionDate", _DT), ("DeletionCause", {"Type": "Edm.String"})],
    },
    "Attribute": {
        "kind": "EntityType",
        "key": "Name",
        "Abstract": True,
        "properties": [
            ("Name", {"Type": "Edm.String", "Nullable": False}),
            ("ValueType", {"Type": "Edm.String"}),
        ],
    },
    **{
        f"{name}Attribute": {
            "kind": "EntityType",
            "BaseType": "OData.CSC.Attribute",
            "properties": [("Value", {"Type": edm, **({"Precision": 6} if "Date" in edm else {})})],
        }
        for name, edm in (
            ("String", "Edm.String"),
            ("Integer", "Edm.Int64"),
            ("Double", "Edm.Double"),
            ("Boolean", "Edm.Boolean"),
            ("DateTimeOffset", "Edm.DateTimeOffset"),
        )
    },
    "Quicklook": {
        "kind": "EntityType",
        "key": "Id",
        "HasStream": True,
        "properties": [("Id", {"Type": "Edm.String", "Nullable": False})],
    },
    # A folder or file of a product's package (CDSE's Nodes): its stream is the file's bytes.
    "Node": {
        "kind": "EntityType",
        "key": "Id",
        "HasStream": True,
        "properties": [
            ("Id", {"Type": "Edm.String", "Nullable": False}),
            ("Name", {"Type": "Edm.String"}),
            ("ContentLength", {"Type": "Edm.Int64"}),
            ("ChildrenNumber", {"Type": "Edm.Int64"}),
        ],
        "navigation": [("Nodes", "Collection(OData.CSC.Node)")],
    },
    "Asset": {
        "kind": "EntityType",
        "key": "Id",
        "HasStream": True,
        "properties": [
            ("Id", {"Type": "Edm.Guid", "Nullable": False}),
            ("Type", {"Type": "Edm.String"}),
            ("DownloadLink", {"Type": "Edm.String"}),
        ],
    },
    "Subscription": {
        "kind": "EntityType",
        "key": "Id",
        "properties": [
            ("Id", {"Type": "Edm.Guid", "Nullable": False}),
            ("Status", {"Type": "OData.CSC.SubscriptionStatus"}),
            ("SubscriptionEvent", {"Type": "OData.CSC.SubscriptionEvent"}),
            ("FilterParam", {"Type": "Edm.String"}),
            ("SubmissionDate", _DT),
            ("LastNotificationDate", _DT),
            ("NotificationEndpoint", {"Type": "Edm.String"}),
            ("NotificationEpUsername", {"Type": "Edm.String"}),
            ("NotificationEpPassword", {"Type": "Edm.String"}),
            ("Owner", {"Type": "Edm.String"}),
            ("FailingSince", _DT),
            ("LastError", {"Type": "Edm.String"}),
        ],
    },
    # A pull subscription's queued notification (services/pull.py); value: the Product, or
    # the DeletedProduct of a deleted event, as the notifier made it.
    "Notification": {
        "kind": "ComplexType",
        "properties": [
            ("SubscriptionEvent", {"Type": "OData.CSC.SubscriptionEvent"}),
            ("ProductId", {"Type": "Edm.Guid"}),
            ("ProductName", {"Type": "Edm.String"}),
            ("SubscriptionId", {"Type": "Edm.Guid"}),
            ("NotificationDate", _DT),
            ("AckId", {"Type": "Edm.String"}),
            ("value", {"Type": "Edm.Untyped"}),
        ],
    },
    "AckResult": {
        "kind": "ComplexType",
        "properties": [
            ("AckMessagesNum", {"Type": "Edm.Int64"}),
            ("CurrentQueueLength", {"Type": "Edm.Int64"}),
            ("MaxQueueLength", {"Type": "Edm.Int64"}),
        ],
    },
    # Admins' views of the PRIP's own state (serve/quarantine.py, quotas.py, exports.py).
    "QuarantineEntry": {
        "kind": "EntityType",
        "key": "Name",
        "properties": [
            ("Name", {"Type": "Edm.String", "Nullable": False}),
            ("Code", {"Type": "Edm.String"}),
            ("Reason", {"Type": "Edm.String"}),
            ("FirstSeen", _DT),
            ("LastSeen", _DT),
            ("Times", {"Type": "Edm.Int64"}),
            ("ContentLength", {"Type": "Edm.Int64"}),
            ("Location", {"Type": "Edm.String"}),
        ],
    },
    "Quota": {
        "kind": "EntityType",
        "key": "Name",
        "properties": [
            ("Name", {"Type": "Edm.String", "Nullable": False}),
            ("Limit", {"Type": "Edm.Int64"}),
            ("Used", {"Type": "Edm.Int64"}),
            ("Unit", {"Type": "Edm.String"}),
            ("WindowDays", {"Type": "Edm.Double"}),
        ],
    },
    "CatalogueExport": {
        "kind": "EntityType",
        "key": "Name",
        "HasStream": True,
        "properties": [
            ("Name", {"Type": "Edm.String", "Nullable": False}),
            ("Kind", {"Type": "Edm.String"}),
            ("ContentLength", {"Type": "Edm.Int64"}),
            ("CreationDate", _DT),
        ],
    },
}

OPERATIONS: list[dict[str, Any]] = [
    {
        "kind": "Action",
        "Name": "FilterList",
        "IsBound": True,
        "parameters": [
            ("Products", "Collection(OData.CSC.Product)"),
            ("FilterProducts", "Collection(OData.CSC.FilterProduct)"),
        ],
        "returns": "Collection(OData.CSC.Product)",
    },
    {  # admins only: take a published product back (serve/withdraw.py)
        "kind": "Action",
        "Name": "Withdraw",
        "IsBound": True,
        "parameters": [("Product", "OData.CSC.Product"), ("DeletionCause", "Edm.String")],
        "returns": "OData.CSC.DeletedProduct",
    },
    *(
        {
            "kind": "Action",
            "Name": name,
            "IsBound": True,
            "parameters": [("Subscription", "OData.CSC.Subscription")],
        }
        for name in ("Pause", "Resume", "Cancel")
    ),
    {  # a pull subscription's queue, its owner's only (serve/pull.py); $top 1..20
        "kind": "Function",
        "Name": "Read",
        "IsBound": True,
        "parameters": [("Subscription", "OData.CSC.Subscription")],
        "returns": "Collection(OData.CSC.Notification)",
    },
    {  # $ackid: this notification and those before it leave the queue (GET accepted too)
        "kind": "Action",
        "Name": "Ack",
        "IsBound": True,
        "parameters": [("Subscription", "OData.CSC.Subscription"), ("ackid", "Edm.String")],
        "returns": "OData.CSC.AckResult",
    },
    {
        "kind": "Function",
        "Name": "Intersects",
        "IsBound": False,
        "parameters": [("area", "Edm.Geography")],
        "returns": "Edm.Boolean",
    },
]

ENTITY_SETS = {
    "Products": "Product",
    "DeletedProducts": "DeletedProduct",
    "Subscriptions": "Subscription",
    "Quarantine": "QuarantineEntry",
    "Quotas": "Quota",
    "CatalogueExports": "CatalogueExport",
}


def service_document() -> dict[str, Any]:
    return {
        "@odata.context": "$metadata",
        "value": [{"name": n, "kind": "EntitySet", "url": n} for n in ENTITY_SETS],
    }


def metadata_xml() -> str:
    body = "".join(_xml_type(name, spec) for name, spec in MODEL.items())
    body += "".join(_xml_operation(op) for op in OPERATIONS)
    sets = "".join(
        f'\n        <EntitySet Name="{s}" EntityType="{NAMESPACE}.{t}"/>'
        for s, t in ENTITY_SETS.items()
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{NAMESPACE}">{body}
      <EntityContainer Name="Container">{sets}
        <FunctionImport Name="Intersects" Function="{NAMESPACE}.Intersects"/>
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"""


def metadata_json() -> dict[str, Any]:
    schema: dict[str, Any] = {name: _json_type(spec) for name, spec in MODEL.items()}
    for op in OPERATIONS:
        schema[op["Name"]] = [{**{"$Kind": op["kind"]}, **_json_operation(op)}]
    container: dict[str, Any] = {"$Kind": "EntityContainer"}
    container.update(
        {s: {"$Collection": True, "$Type": f"{NAMESPACE}.{t}"} for s, t in ENTITY_SETS.items()}
    )
    container["Intersects"] = {"$Function": f"{NAMESPACE}.Intersects"}
    schema["Container"] = container
    return {"$Version": "4.0", "$EntityContainer": f"{NAMESPACE}.Container", NAMESPACE: schema}


def metadata_json_text() -> str:
    return json.dumps(metadata_json(), indent=1)


def _attrs(facets: dict[str, Any]) -> str:
    return "".join(
        f" {k}={quoteattr(str(v).lower() if isinstance(v, bool) else str(v))}"
        for k, v in facets.items()
    )


def _xml_type(name: str, spec: dict[str, Any]) -> str:
    kind = spec["kind"]
    if kind == "EnumType":
        members = "".join(
            f'\n        <Member Name="{m}" Value="{i}"/>' for i, m in enumerate(spec["members"])
        )
        return f'\n      <EnumType Name="{name}">{members}\n      </EnumType>'
    header: dict[str, Any] = {
        k: spec[k] for k in ("BaseType", "Abstract", "HasStream") if k in spec
    }
    inner = f'\n        <Key><PropertyRef Name="{spec["key"]}"/></Key>' if "key" in spec else ""
    inner += "".join(f'\n        <Property Name="{p}"{_attrs(f)}/>' for p, f in spec["properties"])
    inner += "".join(
        f'\n        <NavigationProperty Name="{n}" Type="{t}"/>'
        for n, t in spec.get("navigation", [])
    )
    return f'\n      <{kind} Name="{name}"{_attrs(header)}>{inner}\n      </{kind}>'


def _xml_operation(op: dict[str, Any]) -> str:
    params = "".join(f'\n        <Parameter Name="{n}" Type="{t}"/>' for n, t in op["parameters"])
    returns = f'\n        <ReturnType Type="{op["returns"]}"/>' if "returns" in op else ""
    bound = "true" if op["IsBound"] else "false"
    kind, name = op["kind"], op["Name"]
    return f'\n      <{kind} Name="{name}" IsBound="{bound}">{params}{returns}\n      </{kind}>'


def _json_type(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec["kind"]
    if kind == "EnumType":
        return {"$Kind": kind, **{m: i for i, m in enumerate(spec["members"])}}
    out: dict[str, Any] = {"$Kind": kind}
    for key in ("BaseType", "Abstract", "HasStream"):
        if key in spec:
            out[f"${key}"] = spec[key]
    if "key" in spec:
        out["$Key"] = [spec["key"]]
    for name, facets in spec["properties"]:
        out[name] = _json_facets(facets)
    for name, target in spec.get("navigation", []):
        out[name] = {"$Kind": "NavigationProperty", **_json_facets({"Type": target})}
    return out


def _json_facets(facets: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    type_name = facets["Type"]
    if type_name.startswith("Collection("):
        out["$Collection"] = True
        type_name = type_name[len("Collection(") : -1]
    if type_name != "Edm.String":
        out["$Type"] = type_name
    out.update({f"${k}": v for k, v in facets.items() if k != "Type"})
    return out


def _json_operation(op: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"$IsBound": op["IsBound"]} if op["IsBound"] else {}
    out["$Parameter"] = [{"$Name": n, **_json_facets({"Type": t})} for n, t in op["parameters"]]
    if "returns" in op:
        out["$ReturnType"] = _json_facets({"Type": op["returns"]})
    return out
