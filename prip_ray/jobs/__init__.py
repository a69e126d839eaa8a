"""Entry points for `ray job submit` (bulk re-ingestion)."""
