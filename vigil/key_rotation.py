"""Re-encrypting every stored personal value under the current data key.

Every column of type Encrypted is found in the models, so a column added later is
rotated too. Email look-up hashes are recomputed under the current key as well.
"""

from dataclasses import dataclass

from sqlalchemy import Text, literal, select, type_coerce, update

from .crypto import DataKeys, Encrypted
from .extensions import db
from .people import normalise_email


@dataclass(frozen=True)
class RotationReport:
    rows: int  # rows rewritten
    values: int  # encrypted values rewritten


def encrypted_tables() -> dict:
    """{table: [names of its encrypted columns]} from the models' metadata."""
    found = {}
    for table in db.metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, Encrypted)]
        if names:
            found[table] = names
    return found


def _rotate_row(keys: DataKeys, stored: dict, has_key: bool) -> dict:
    """New stored values for one row: ciphertext under the current key, a fresh hash."""
    changes = {
        name: keys.encrypt(keys.decrypt(value))
        for name, value in stored.items()
        if value is not None and not keys.is_current(value)
    }
    if has_key and stored.get("email") is not None:
        changes["email_key"] = keys.lookup(normalise_email(keys.decrypt(stored["email"])))
    return changes


def rotate(keys: DataKeys, batch: int = 1000) -> RotationReport:
    """Rewrite every value not yet under the current key (in the caller's transaction).

    Values are read and written as the raw stored text (the column type would
    decrypt on reading and encrypt on writing), a batch of ids at a time.
    """
    rows = values = 0
    for table, names in encrypted_tables().items():
        has_key = "email_key" in table.c
        raw = [type_coerce(table.c[n], Text).label(n) for n in names]
        after = 0
        while True:
            chunk = db.session.execute(
                select(table.c.id, *raw).where(table.c.id > after).order_by(table.c.id).limit(batch)
            ).all()
            if not chunk:
                break
            for row in chunk:
                after = row.id
                changes = _rotate_row(keys, {n: getattr(row, n) for n in names}, has_key)
                if not changes:
                    continue
                rows += 1
                values += sum(1 for n in changes if n != "email_key")
                db.session.execute(
                    update(table)
                    .where(table.c.id == row.id)
                    .values({table.c[k]: literal(v, Text) for k, v in changes.items()})
                )
    return RotationReport(rows, values)
