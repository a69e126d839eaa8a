"""announce every change of a user on the prip_users channel (PostgreSQL)

Authentication reads the caller's user row on every request, so a disabled user is refused
at once. The API replicas now keep users in memory (db/user_cache.py) and LISTEN on
prip_users: this trigger sends the name of each user inserted, updated or deleted, and an
empty name when the table is truncated, from the commit that made the change, whoever made
it. SQLite has no notifications; there the replicas keep reading every time.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION prip_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('prip_users', '');
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('prip_users', OLD.name);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('prip_users', NEW.name);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION prip_users_changed()"
    )
    op.execute(
        "CREATE TRIGGER users_truncated AFTER TRUNCATE ON users "
        "FOR EACH STATEMENT EXECUTE FUNCTION prip_users_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS users_truncated ON users")
    op.execute("DROP TRIGGER IF EXISTS users_changed ON users")
    op.execute("DROP FUNCTION IF EXISTS prip_users_changed()")
