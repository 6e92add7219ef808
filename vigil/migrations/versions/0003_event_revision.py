"""event revision; ids never reused on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# On SQLite, AUTOINCREMENT keeps ids from being reused after a delete: an erased
# RSVP's id must never come back for someone else (emails are deduplicated by id).
AUTOINCREMENT_TABLES = ("events", "rsvps", "rsvp_tokens", "outbox_messages")


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
    if op.get_bind().dialect.name == "sqlite":
        for table in AUTOINCREMENT_TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("revision")
