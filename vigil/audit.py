"""The audit trail: every organiser log-in (and failed one), every view or export of
personal data, and every change, as append-only rows that hold no personal data.

The rows form a keyed hash chain: each row's hash is an HMAC, under a key kept
outside the database (VIGIL_AUDIT_KEY, or instance/audit_key), of its own content
and the hash of the row before it. Changing or deleting a row, or slipping one in,
breaks the chain at that point, which `flask --app vigil audit verify` reports;
without the key, nobody who can write to the database can compute a chain that
fits again. Rows cut off the end leave a shorter chain that fits: so `verify`
prints the head, and the mail worker emails it to the admins every day, for them
to compare with what the database says later (`verify --head HASH`).
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, text

from .config import instance_secret
from .extensions import db
from .mail import queue_email
from .models import AuditEntry, Event, Organiser, OrganiserRole, utcnow

GENESIS = "0" * 64
KEY_FILE = "audit_key"
# Any fixed number: PostgreSQL's advisory lock that puts chain writers in a line.
_CHAIN_LOCK = 7_405_211


def audit_key() -> bytes:
    """The chain's key: from the environment, or made once in the instance folder."""
    configured = current_app.config.get("VIGIL_AUDIT_KEY")
    return (configured or instance_secret(current_app.instance_path, KEY_FILE)).encode()


def entry_hash(entry: AuditEntry, key: bytes | None = None) -> str:
    fields = (
        entry.prev_hash,
        "" if entry.organiser_id is None else str(entry.organiser_id),
        entry.action,
        "" if entry.event_id is None else str(entry.event_id),
        "" if entry.rows is None else str(entry.rows),
        entry.created_at.isoformat(timespec="microseconds"),
    )
    message = "\x1f".join(fields).encode()
    return hmac.new(key or audit_key(), message, hashlib.sha256).hexdigest()


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
    key = audit_key()
    previous, count, after = GENESIS, 0, 0
    while True:
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not entries:
            return ChainReport(count, previous, None)
        for entry in entries:
            if entry.prev_hash != previous or not hmac.compare_digest(
                entry_hash(entry, key), entry.hash
            ):
                return ChainReport(count, previous, entry.id)
            previous, count, after = entry.hash, count + 1, entry.id
        db.session.expunge_all()


def head_seen_before(head: str, batch: int = 1000) -> bool:
    """Whether `head` (a head printed or emailed earlier) is a row of the chain now:
    if it is not, rows were cut off the end, or the chain was rebuilt."""
    return db.session.scalar(select(AuditEntry.id).where(AuditEntry.hash == head)) is not None


def queue_head_for_admins(now: datetime | None = None) -> int:
    """Email every active admin today's head of the chain, once a day: a copy kept
    outside the database, which shows later if rows were cut off the end."""
    now = now or utcnow()
    report = verify_chain()
    admins = db.session.scalars(
        select(Organiser).where(Organiser.role == OrganiserRole.ADMIN, Organiser.active)
    ).all()
    day = now.date().isoformat()
    queued = 0
    for admin in admins:
        queued += queue_email(
            kind="audit_head",
            dedupe_key=f"audit_head:{day}:{admin.id}",
            to=admin.email,
            subject=_("Audit trail head, %(day)s", day=day),
            template="audit_head",
            context={
                "extra": {
                    "day": day,
                    "entries": report.entries,
                    "head": report.head,
                    "broken_at": report.broken_at,
                }
            },
        )
    return queued
