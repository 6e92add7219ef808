"""retention: per-event period, and the numbers kept after a purge

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table(
        "events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("purged_counts", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(
            "retention_days", "retention_days IS NULL OR retention_days >= 0"
        )


def downgrade():
    with op.batch_alter_table(
        "events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint("ck_events_retention_days", type_="check")
        batch_op.drop_column("purged_counts")
        batch_op.drop_column("purged_at")
        batch_op.drop_column("retention_days")
