"""languages: an event's text in other languages, and the language each person used

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    for table in ("rsvps", "volunteer_signups"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    for table in ("volunteer_signups", "rsvps"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("language")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("translations")
