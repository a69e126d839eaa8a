"""The OData HTTP API (FastAPI) and its Ray Serve deployment."""
