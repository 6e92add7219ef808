"""personal data encrypted at rest; email look-ups by keyed hash

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from vigil.people import normalise_email

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# table: (encrypted columns with their old lengths, has an email_key)
COLUMNS = {
    "rsvps": ({"name": 100, "email": 254, "accessibility": 500}, True),
    "volunteer_signups": (
        {"name": 100, "email": 254, "phone": 40, "languages": 200, "notes": 500},
        True,
    ),
    "outbox_messages": ({"recipient": 254, "body_text": None, "body_html": None}, False),
}


def _retype(table: str, to_text: bool) -> None:
    columns, _ = COLUMNS[table]
    with op.batch_alter_table(
        table, schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        for name, length in columns.items():
            if length is None:
                continue  # already TEXT
            old, new = sa.String(length=length), sa.Text()
            if not to_text:
                old, new = new, old
            batch_op.alter_column(name, existing_type=old, type_=new)


def _rewrite(table: str, change) -> None:
    columns, has_key = COLUMNS[table]
    names = ["id", *columns] + (["email_key"] if has_key else [])
    t = sa.table(table, *(sa.column(n) for n in names))
    bind = op.get_bind()
    for row in bind.execute(sa.select(t)).mappings().all():
        values = change(dict(row))
        bind.execute(t.update().where(t.c.id == row["id"]).values(**values))


def upgrade():
    keys = current_app.extensions["vigil_data_keys"]

    def encrypt(row: dict) -> dict:
        out = {}
        for name, value in row.items():
            if name in ("id", "email_key"):
                continue
            out[name] = None if value is None else keys.encrypt(value)
        if "email_key" in row:
            out["email_key"] = (
                None if row["email"] is None else keys.lookup(normalise_email(row["email"]))
            )
        return out

    for table in COLUMNS:
        _retype(table, to_text=True)
        _rewrite(table, encrypt)


def downgrade():
    keys = current_app.extensions["vigil_data_keys"]

    def decrypt(row: dict) -> dict:
        out = {}
        for name, value in row.items():
            if name in ("id", "email_key"):
                continue
            out[name] = None if value is None else keys.decrypt(value)
        if "email_key" in row:
            out["email_key"] = None if out["email"] is None else normalise_email(out["email"])
        return out

    for table in COLUMNS:
        _rewrite(table, decrypt)
        _retype(table, to_text=False)
