"""volunteers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duty", sa.String(length=500), nullable=False),
        sa.Column("what_to_bring", sa.String(length=500), nullable=False),
        sa.Column("needs_phone", sa.Boolean(), nullable=False),
        sa.Column("briefing", sa.String(length=500), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_roles_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roles_event_id"), ["event_id"], unique=False)

    op.create_table(
        "volunteer_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=1024), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("languages", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("feed_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active')", name=op.f("ck_volunteer_signups_status")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_volunteer_signups_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_signups")),
        sa.UniqueConstraint("event_id", "email_key", name="uq_volunteer_signups_event_email"),
        sa.UniqueConstraint("feed_token_hash", name=op.f("uq_volunteer_signups_feed_token_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("volunteer_signups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteer_signups_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("meeting_point", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_shifts_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_shifts_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_shifts_role_id_roles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
        sa.UniqueConstraint("uuid", name=op.f("uq_shifts_uuid")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_role_id"), ["role_id"], unique=False)

    op.create_table(
        "volunteer_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signup_id"],
            ["volunteer_signups.id"],
            name=op.f("fk_volunteer_tokens_signup_id_volunteer_signups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_volunteer_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("volunteer_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteer_tokens_signup_id"), ["signup_id"], unique=False
        )

    op.create_table(
        "shift_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.id"],
            name=op.f("fk_shift_assignments_shift_id_shifts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signup_id"],
            ["volunteer_signups.id"],
            name=op.f("fk_shift_assignments_signup_id_volunteer_signups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_assignments")),
        sa.UniqueConstraint("signup_id", "shift_id", name="uq_shift_assignments_signup_shift"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("shift_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shift_assignments_shift_id"), ["shift_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shift_assignments_signup_id"), ["signup_id"], unique=False
        )

    # Rebuilding the table on SQLite must keep its never-reused ids.
    with op.batch_alter_table(
        "outbox_messages", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("signup_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_signup_id"), ["signup_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_signup_id_volunteer_signups"),
            "volunteer_signups",
            ["signup_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_signup_id_volunteer_signups"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbox_messages_signup_id"))
        batch_op.drop_column("signup_id")

    with op.batch_alter_table("shift_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shift_assignments_signup_id"))
        batch_op.drop_index(batch_op.f("ix_shift_assignments_shift_id"))

    op.drop_table("shift_assignments")
    with op.batch_alter_table("volunteer_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_tokens_signup_id"))

    op.drop_table("volunteer_tokens")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shifts_role_id"))

    op.drop_table("shifts")
    with op.batch_alter_table("volunteer_signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_signups_event_id"))

    op.drop_table("volunteer_signups")
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roles_event_id"))

    op.drop_table("roles")
