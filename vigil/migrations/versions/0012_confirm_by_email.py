"""places held only for people who confirm by email

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table(
        "events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("confirm_by_email", sa.Boolean(), nullable=True))
    with op.batch_alter_table(
        "rsvps", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("confirm_by", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_rsvps_confirm_by", ["confirm_by"], unique=False)


def downgrade():
    with op.batch_alter_table(
        "rsvps", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_rsvps_confirm_by")
        batch_op.drop_column("confirm_by")
    with op.batch_alter_table(
        "events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("confirm_by_email")
