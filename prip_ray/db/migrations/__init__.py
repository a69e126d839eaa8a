"""Alembic migrations of the PRIP DB; ``prip_ray.db.migrate.upgrade`` runs them."""
