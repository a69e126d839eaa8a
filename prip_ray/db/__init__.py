"""The PRIP DB: SQLAlchemy tables, sessions, repositories, migrations. Only here is SQLAlchemy."""
