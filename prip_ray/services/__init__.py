"""Use cases (ingest a product, search, download) over the domain and the ports."""
