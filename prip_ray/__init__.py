"""prip-ray: a Production Interface Delivery Point server for Copernicus Sentinel missions."""

__version__ = "0.1.0"
