"""an RSVP remembers when the organisers cancelled it, so the person cannot undo that

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLE = {"sqlite_autoincrement": True}


def upgrade():
    with op.batch_alter_table("rsvps", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cancelled_by_organisers", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("rsvps", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.drop_column("cancelled_by_organisers")
