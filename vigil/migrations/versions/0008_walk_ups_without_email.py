"""walk-ups without an email address

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # An organiser adding someone at the spot need not ask for an address.
    with op.batch_alter_table(
        "rsvps", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch_op.alter_column("email_key", existing_type=sa.String(length=1024), nullable=True)


def downgrade():
    # Walk-ups without an address cannot be kept in the older schema.
    op.execute("DELETE FROM rsvps WHERE email IS NULL")
    with op.batch_alter_table(
        "rsvps", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch_op.alter_column("email_key", existing_type=sa.String(length=1024), nullable=False)
