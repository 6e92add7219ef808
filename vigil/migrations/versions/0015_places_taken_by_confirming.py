"""RSVPs and volunteer sign-ups wait, holding nothing, until confirmed from the mailbox

A new status `pending` for both, and a confirmation deadline for sign-ups. Rows
already stored keep what they have: an RSVP that holds a place while it waits for
confirmation was promised that place until its deadline, so it keeps it until then
(and is released then, as before); sign-ups made before this are active.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = {"sqlite_autoincrement": True}


def upgrade():
    with op.batch_alter_table("rsvps", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_rsvps_status"), type_="check")
        batch_op.create_check_constraint(
            "status", "status IN ('pending', 'confirmed', 'waitlisted', 'cancelled')"
        )
    with op.batch_alter_table("volunteer_signups", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_volunteer_signups_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'active')")
        batch_op.add_column(sa.Column("confirm_by", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_volunteer_signups_confirm_by", ["confirm_by"], unique=False)


def downgrade():
    # Nothing pending survives a downgrade: it held nothing and was never confirmed.
    op.execute("DELETE FROM rsvps WHERE status = 'pending'")
    op.execute("DELETE FROM volunteer_signups WHERE status = 'pending'")
    with op.batch_alter_table("volunteer_signups", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.drop_index("ix_volunteer_signups_confirm_by")
        batch_op.drop_column("confirm_by")
        batch_op.drop_constraint(batch_op.f("ck_volunteer_signups_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('active')")
    with op.batch_alter_table("rsvps", schema=None, table_kwargs=TABLE) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_rsvps_status"), type_="check")
        batch_op.create_check_constraint(
            "status", "status IN ('confirmed', 'waitlisted', 'cancelled')"
        )
