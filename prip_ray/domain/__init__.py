"""Plain-Python domain: product naming, metadata, QC rules, quotas, retention. No frameworks."""
