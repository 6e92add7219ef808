"""outbox and rsvp tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("calendar", sa.Text(), nullable=True),
        sa.Column("calendar_filename", sa.String(length=120), nullable=True),
        sa.Column("unsubscribe_url", sa.String(length=300), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("rsvp_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')",
            name=op.f("ck_outbox_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_outbox_messages_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rsvp_id"],
            ["rsvps.id"],
            name=op.f("fk_outbox_messages_rsvp_id_rsvps"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_messages_dedupe_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_rsvp_id"), ["rsvp_id"], unique=False)

    op.create_table(
        "rsvp_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rsvp_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rsvp_id"], ["rsvps.id"], name=op.f("fk_rsvp_tokens_rsvp_id_rsvps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rsvp_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rsvp_tokens_token_hash")),
    )
    with op.batch_alter_table("rsvp_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rsvp_tokens_rsvp_id"), ["rsvp_id"], unique=False)

    # Links already emailed keep working: each RSVP's hash moves to the new table.
    op.execute(
        "INSERT INTO rsvp_tokens (rsvp_id, token_hash, created_at) "
        "SELECT id, token_hash, created_at FROM rsvps"
    )
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_rsvps_token_hash"), type_="unique")
        batch_op.drop_column("token_hash")
        # Case-folded addresses can be longer than the addresses themselves.
        batch_op.alter_column(
            "email_key",
            existing_type=sa.String(length=254),
            type_=sa.String(length=1024),
            existing_nullable=False,
        )


def downgrade():
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.alter_column(
            "email_key",
            existing_type=sa.String(length=1024),
            type_=sa.String(length=254),
            existing_nullable=False,
        )
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.VARCHAR(length=64), nullable=True))
    op.execute(
        "UPDATE rsvps SET token_hash = (SELECT MIN(t.token_hash) FROM rsvp_tokens t "
        "WHERE t.rsvp_id = rsvps.id)"
    )
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_rsvps_token_hash"), ["token_hash"])

    with op.batch_alter_table("rsvp_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rsvp_tokens_rsvp_id"))

    op.drop_table("rsvp_tokens")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_rsvp_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_messages_event_id"))
        batch_op.drop_index("ix_outbox_messages_due")

    op.drop_table("outbox_messages")
