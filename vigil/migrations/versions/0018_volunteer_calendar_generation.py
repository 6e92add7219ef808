"""a volunteer's calendar entries count the shifts they dropped, so a shift taken
again after being dropped goes out with a higher SEQUENCE than its cancellation

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLE = {"sqlite_autoincrement": True}


def upgrade():
    with op.batch_alter_table("volunteer_signups", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.add_column(
            sa.Column("calendar_changes", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("volunteer_signups", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.drop_column("calendar_changes")
