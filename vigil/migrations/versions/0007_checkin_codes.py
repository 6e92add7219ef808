"""check-in codes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade():
    # The table is rebuilt on SQLite: keep its never-reused ids.
    with op.batch_alter_table(
        "rsvps", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("checkin_code", sa.String(length=8), nullable=True))
        batch_op.create_unique_constraint(
            "uq_rsvps_event_checkin_code", ["event_id", "checkin_code"]
        )
    # Existing RSVPs get codes too, unique within their event.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, event_id FROM rsvps")).all()
    used = set()
    for rsvp_id, event_id in rows:
        while True:
            code = "".join(secrets.choice(ALPHABET) for _ in range(6))
            if (event_id, code) not in used:
                used.add((event_id, code))
                break
        bind.execute(
            sa.text("UPDATE rsvps SET checkin_code = :c WHERE id = :i"), {"c": code, "i": rsvp_id}
        )


def downgrade():
    with op.batch_alter_table(
        "rsvps", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint("uq_rsvps_event_checkin_code", type_="unique")
        batch_op.drop_column("checkin_code")
