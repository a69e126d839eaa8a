"""A STAC API over the catalogue: STAC parameters become the same search options as OData
``$filter`` (so the same indexes and statements answer), and products become STAC Items."""
