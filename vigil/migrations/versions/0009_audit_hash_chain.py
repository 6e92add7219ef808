"""audit entries form a hash chain and are append-only

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

"""

import hashlib
from datetime import UTC

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END",
        "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$",
        "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    ],
}

DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_entries_no_update",
        "DROP TRIGGER IF EXISTS audit_entries_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries",
        "DROP FUNCTION IF EXISTS audit_entries_append_only()",
    ],
}


def _hash(prev, organiser_id, action, event_id, rows, created_at) -> str:
    """The same as vigil.audit.entry_hash, kept here so this migration never changes."""
    created_at = (
        created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at.astimezone(UTC)
    )
    fields = (
        prev,
        "" if organiser_id is None else str(organiser_id),
        action,
        "" if event_id is None else str(event_id),
        "" if rows is None else str(rows),
        created_at.isoformat(timespec="microseconds"),
    )
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def upgrade():
    with op.batch_alter_table(
        "audit_entries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    entries = sa.table(
        "audit_entries",
        sa.column("id", sa.Integer),
        sa.column("organiser_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("event_id", sa.Integer),
        sa.column("rows", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    previous = GENESIS
    for row in bind.execute(sa.select(entries).order_by(entries.c.id)).all():
        digest = _hash(
            previous, row.organiser_id, row.action, row.event_id, row.rows, row.created_at
        )
        bind.execute(
            entries.update().where(entries.c.id == row.id).values(prev_hash=previous, hash=digest)
        )
        previous = digest
    with op.batch_alter_table(
        "audit_entries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    for statement in TRIGGERS.get(bind.dialect.name, []):
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    for statement in DROP_TRIGGERS.get(bind.dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table(
        "audit_entries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
