"""outbox messages name a template and its context; the worker renders them

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table(
        "outbox_messages", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("template", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("context", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table(
        "outbox_messages", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("context")
        batch_op.drop_column("template")
