"""organisers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organisers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=1024), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'organiser', 'steward')", name=op.f("ck_organisers_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisers")),
        sa.UniqueConstraint("email_key", name=op.f("uq_organisers_email_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "event_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_members_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organisers.id"],
            name=op.f("fk_event_members_organiser_id_organisers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_members")),
        sa.UniqueConstraint("organiser_id", "event_id", name="uq_event_members_organiser_event"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("event_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_members_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_members_organiser_id"), ["organiser_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("event_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_members_organiser_id"))
        batch_op.drop_index(batch_op.f("ix_event_members_event_id"))

    op.drop_table("event_members")
    op.drop_table("organisers")
