"""The service document and the CSDL ($metadata) of the OData.CSC model."""

from __future__ import annotations

from typing import Any

_PRODUCT_PROPERTIES = """
        <Property Name="Id" Type="Edm.Guid" Nullable="false"/>
        <Property Name="Name" Type="Edm.String"/>
        <Property Name="ContentType" Type="Edm.String"/>
        <Property Name="ContentLength" Type="Edm.Int64"/>
        <Property Name="OriginDate" Type="Edm.DateTimeOffset" Precision="6"/>
        <Property Name="PublicationDate" Type="Edm.DateTimeOffset" Precision="6"/>
        <Property Name="ModificationDate" Type="Edm.DateTimeOffset" Precision="6"/>
        <Property Name="EvictionDate" Type="Edm.DateTimeOffset" Precision="6"/>
        <Property Name="Online" Type="Edm.Boolean"/>
        <Property Name="Checksum" Type="Collection(OData.CSC.Checksum)"/>
        <Property Name="ContentDate" Type="OData.CSC.TimeRange"/>
        <Property Name="ProductionType" Type="OData.CSC.ProductionType"/>
        <Property Name="Footprint" Type="Edm.Geography" SRID="4326"/>
        <Property Name="GeoFootprint" Type="Edm.String"/>
        <NavigationProperty Name="Attributes" Type="Collection(OData.CSC.Attribute)"/>"""

_ATTRIBUTE_TYPES = {
    "StringAttribute": "Edm.String",
    "IntegerAttribute": "Edm.Int64",
    "DoubleAttribute": "Edm.Double",
    "BooleanAttribute": "Edm.Boolean",
    "DateTimeOffsetAttribute": "Edm.DateTimeOffset",
}


def _attribute_subtypes() -> str:
    return "".join(
        f"""
      <EntityType Name="{name}" BaseType="OData.CSC.Attribute">
        <Property Name="Value" Type="{edm}"/>
      </EntityType>"""
        for name, edm in _ATTRIBUTE_TYPES.items()
    )


def metadata_xml() -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="OData.CSC">
      <EnumType Name="ProductionType">
        <Member Name="systematic_production" Value="0"/>
        <Member Name="on-demand default" Value="1"/>
        <Member Name="on-demand non-default" Value="2"/>
      </EnumType>
      <ComplexType Name="Checksum">
        <Property Name="Algorithm" Type="Edm.String"/>
        <Property Name="Value" Type="Edm.String"/>
        <Property Name="ChecksumDate" Type="Edm.DateTimeOffset" Precision="6"/>
      </ComplexType>
      <ComplexType Name="TimeRange">
        <Property Name="Start" Type="Edm.DateTimeOffset" Precision="6"/>
        <Property Name="End" Type="Edm.DateTimeOffset" Precision="6"/>
      </ComplexType>
      <EntityType Name="Product" HasStream="true">
        <Key><PropertyRef Name="Id"/></Key>{_PRODUCT_PROPERTIES}
      </EntityType>
      <EntityType Name="Attribute" Abstract="true">
        <Key><PropertyRef Name="Name"/></Key>
        <Property Name="Name" Type="Edm.String" Nullable="false"/>
        <Property Name="ValueType" Type="Edm.String"/>
      </EntityType>{_attribute_subtypes()}
      <EntityContainer Name="Container">
        <EntitySet Name="Products" EntityType="OData.CSC.Product">
          <NavigationPropertyBinding Path="Attributes" Target="Attributes"/>
        </EntitySet>
        <EntitySet Name="Attributes" EntityType="OData.CSC.Attribute"/>
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"""


def service_document() -> dict[str, Any]:
    return {
        "@odata.context": "$metadata",
        "value": [{"name": "Products", "kind": "EntitySet", "url": "Products"}],
    }
