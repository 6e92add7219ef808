"""The audit trail: every organiser log-in (and failed one), every view or export of
personal data, and every change, as append-only rows that hold no personal data.

The rows form a hash chain: each row's hash covers its own content and the hash
of the row before it. Changing or deleting a row, or slipping one in, breaks the
chain at that point, which `flask --app vigil audit verify` reports. (Cutting rows
off the end cannot show in the chain itself: keep the head hash that `verify`
prints somewhere else to catch that.)
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy import select, text

from .extensions import db
from .models import AuditEntry, Event, Organiser, utcnow

GENESIS = "0" * 64
# Any fixed number: PostgreSQL's advisory lock that puts chain writers in a line.
_CHAIN_LOCK = 7_405_211


def entry_hash(entry: AuditEntry) -> str:
    fields = (
        entry.prev_hash,
        "" if entry.organiser_id is None else str(entry.organiser_id),
        entry.action,
        "" if entry.event_id is None else str(entry.event_id),
        "" if entry.rows is None else str(entry.rows),
        entry.created_at.isoformat(timespec="microseconds"),
    )
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def _lock_chain() -> None:
    """Two writers must not both extend the chain from the same row. PostgreSQL: an
    advisory lock held until commit. SQLite: writes are already one at a time."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})


def record(
    organiser: Organiser | None, action: str, event: Event | None = None, rows: int | None = None
) -> AuditEntry:
    """Add a row in the caller's transaction (the caller commits)."""
    _lock_chain()
    last = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        organiser_id=organiser.id if organiser is not None else None,
        action=action,
        event_id=event.id if event is not None else None,
        rows=rows,
        # Microseconds only: what both databases keep, so the hash is the same on reading.
        created_at=utcnow(),
        prev_hash=last or GENESIS,
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str
    broken_at: int | None  # id of the first row that does not fit, or None


def verify_chain(batch: int = 1000) -> ChainReport:
    """Walk the chain in order, a batch at a time, and say where it first breaks."""
    previous, count, after = GENESIS, 0, 0
    while True:
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not entries:
            return ChainReport(count, previous, None)
        for entry in entries:
            if entry.prev_hash != previous or entry_hash(entry) != entry.hash:
                return ChainReport(count, previous, entry.id)
            previous, count, after = entry.hash, count + 1, entry.id
        db.session.expunge_all()
