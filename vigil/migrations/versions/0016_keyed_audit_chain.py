"""the audit trail's hash chain is keyed (HMAC with a key kept outside the database)

Every row whose chain still verifies is hashed again under the key; from the first
row that does not, the old hashes are left as they are, so `audit verify` still
reports the break there instead of this upgrade sealing it. The key is
VIGIL_AUDIT_KEY, or instance/audit_key, made now if missing.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

"""

import hashlib
import hmac
from datetime import UTC

import sqlalchemy as sa
from alembic import op
from flask import current_app

from vigil.config import instance_secret

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
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


def _message(prev, organiser_id, action, event_id, rows, created_at) -> bytes:
    """The fields as vigil.audit.entry_hash joins them, kept here so this never changes."""
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
    return "\x1f".join(fields).encode()


def _entries():
    return sa.table(
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


def _rehash(old_digest, new_digest) -> None:
    """Walk the chain as `old_digest` made it; rewrite it as `new_digest` makes it,
    up to the first row that does not fit."""
    bind = op.get_bind()
    entries = _entries()
    old_previous = new_previous = GENESIS
    for drop in DROP_TRIGGERS.get(bind.dialect.name, []):
        op.execute(drop)
    for row in bind.execute(sa.select(entries).order_by(entries.c.id)).all():
        fields = (row.organiser_id, row.action, row.event_id, row.rows, row.created_at)
        if row.prev_hash != old_previous or old_digest(_message(old_previous, *fields)) != row.hash:
            break  # broken before this upgrade: left for `audit verify` to report
        digest = new_digest(_message(new_previous, *fields))
        bind.execute(
            entries.update()
            .where(entries.c.id == row.id)
            .values(prev_hash=new_previous, hash=digest)
        )
        old_previous, new_previous = row.hash, digest
    for statement in TRIGGERS.get(bind.dialect.name, []):
        op.execute(statement)


def _key() -> bytes:
    configured = current_app.config.get("VIGIL_AUDIT_KEY")
    return (configured or instance_secret(current_app.instance_path, "audit_key")).encode()


def _keyed(message: bytes) -> str:
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def _plain(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


def upgrade():
    _rehash(_plain, _keyed)


def downgrade():
    _rehash(_keyed, _plain)
