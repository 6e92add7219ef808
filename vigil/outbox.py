"""The outbox: emails stored with the change that caused them, claimed and settled by workers.

Claiming is one short transaction: on PostgreSQL rows are locked with
`FOR UPDATE SKIP LOCKED`, so several workers never take the same message; on SQLite
the write transaction already holds the database lock. A claim is a lease: if a
worker dies mid-send, the message becomes due again when the lease runs out
(at-least-once delivery).
"""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .extensions import db
from .models import Event, OutboxMessage, OutboxStatus, utcnow


@dataclass(frozen=True)
class Retry:
    base_seconds: float
    cap_seconds: float
    max_attempts: int


def add_message(**values) -> bool:
    """Insert a pending message unless one with the same dedupe key exists.

    Returns whether a row was added. Runs inside the caller's transaction.
    """
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    now = values.setdefault("created_at", utcnow())
    values.setdefault("next_attempt_at", now)
    values.setdefault("status", OutboxStatus.PENDING)
    values.setdefault("attempts", 0)
    statement = (
        insert(OutboxMessage.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.__table__.c.id)
    )
    return db.session.execute(statement).scalar() is not None


def message_exists(dedupe_key: str) -> bool:
    return (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        is not None
    )


# What a settled message keeps: metadata only. The outbox must not become a second
# copy of personal data once its job is done.
_CLEARED = dict.fromkeys(
    ("recipient", "subject", "body_text", "body_html", "context", "calendar", "unsubscribe_url")
)


@dataclass(frozen=True)
class Claimed:
    """A claimed message, copied out of the session so sending holds no transaction open."""

    id: int
    claim: str
    kind: str
    attempts: int
    recipient: str
    subject: str
    body_text: str
    body_html: str
    calendar: str | None
    calendar_filename: str | None
    unsubscribe_url: str | None
    message_id: str
    created_at: datetime
    # A message still to be rendered: its template, context and person.
    template: str | None = None
    context: str | None = None
    event_id: int | None = None
    rsvp_id: int | None = None
    signup_id: int | None = None


_COPIED = [f for f in Claimed.__dataclass_fields__ if f != "claim"]


def claim_due(
    limit: int, lease: timedelta, max_attempts: int = 1000, now: datetime | None = None
) -> list[Claimed]:
    """Take up to `limit` due messages for this worker. The caller commits the claim at
    once, in a transaction of its own, before sending anything.

    A message whose lease ran out after its last allowed attempt (its worker kept
    dying on it) is marked failed instead of being tried forever.
    """
    now = now or utcnow()
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_until < now,
            OutboxMessage.attempts >= max_attempts,
        )
        .values(
            status=OutboxStatus.FAILED,
            claimed_until=None,
            claimed_by=None,
            last_error="gave up: no worker finished it",
            **_CLEARED,
        )
    )
    claim = uuid.uuid4().hex
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < now),
    )
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.claimed_until = now + lease
        row.claimed_by = claim
        row.attempts += 1
        claimed.append(Claimed(claim=claim, **{f: getattr(row, f) for f in _COPIED}))
    db.session.flush()
    return claimed


@dataclass(frozen=True)
class Outcome:
    message: Claimed
    result: str  # "sent", "failed", "retry" or "released" (not tried)
    reason: str | None = None


def settle(outcomes: list[Outcome], retry: Retry, now: datetime | None = None) -> None:
    """Record a batch's outcomes in one statement per kind of outcome.

    Each row is updated only while this worker's claim on it still stands, so a
    worker whose lease ran out cannot overwrite the outcome of the one that
    retried the message.
    """
    now = now or utcnow()
    rows = []
    for outcome in outcomes:
        values = _outcome_values(outcome, retry, now)
        rows.append({"b_id": outcome.message.id, "b_claim": outcome.message.claim, **values})
    table = OutboxMessage.__table__
    by_shape: dict[tuple, list[dict]] = {}
    for row in rows:
        by_shape.setdefault(tuple(sorted(row)), []).append(row)
    for shape, group in by_shape.items():
        columns = {key: bindparam(key) for key in shape if not key.startswith("b_")}
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.claimed_by == bindparam("b_claim"))
            .values(claimed_until=None, claimed_by=None, **columns)
        )
        db.session.connection().execute(statement, group)


def _outcome_values(outcome: Outcome, retry: Retry, now: datetime) -> dict:
    message = outcome.message
    if outcome.result == "released":  # never tried: due again at once, attempt not counted
        return {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": now,
            "attempts": message.attempts - 1,
        }
    if outcome.result == "sent":
        return {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None, **_CLEARED}
    if outcome.result == "retry" and message.attempts < retry.max_attempts:
        delay = min(retry.cap_seconds, retry.base_seconds * 2 ** (message.attempts - 1))
        delay *= random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not security
        return {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": now + timedelta(seconds=delay),
            "last_error": (outcome.reason or "")[:200],
        }
    reason = outcome.reason or ""
    if outcome.result == "retry":
        reason = f"gave up after {message.attempts} attempts: {reason}"
    return {"status": OutboxStatus.FAILED, "last_error": reason[:200], **_CLEARED}


def forget(owner) -> list[int]:
    """Delete every message matching `owner` (a person being erased, or an event being
    purged): unsent ones are never sent.

    Returns the deleted ids, so copies kept outside the database can go too.
    """
    ids = list(db.session.scalars(select(OutboxMessage.id).where(owner)))
    if ids:
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return ids


@dataclass(frozen=True)
class OutboxStatusReport:
    counts: dict[str, int]
    oldest_pending_age: timedelta | None


def status_report(now: datetime | None = None) -> OutboxStatusReport:
    now = now or utcnow()
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        )
    )
    return OutboxStatusReport(
        counts={s: counts.get(s, 0) for s in OutboxStatus.ALL},
        oldest_pending_age=(now - oldest) if oldest else None,
    )


@dataclass(frozen=True)
class FailedMessage:
    """A message that will not be delivered, as an operator may see it: no address."""

    id: int
    kind: str
    event_slug: str | None
    attempts: int
    reason: str | None
    created_at: datetime


def failed_messages(limit: int = 200) -> list[FailedMessage]:
    """The newest permanent failures first, with the reason the server gave."""
    rows = db.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            Event.slug,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
        )
        .outerjoin(Event, Event.id == OutboxMessage.event_id)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return [FailedMessage(*row) for row in rows]


def undeliverable_counts(event_ids: list[int]) -> dict[int, int]:
    """How many emails about each event failed for good (the organisers' dashboard)."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(OutboxMessage.event_id, func.count())
        .where(OutboxMessage.event_id.in_(event_ids), OutboxMessage.status == OutboxStatus.FAILED)
        .group_by(OutboxMessage.event_id)
    ).all()
    return dict(rows)


def bouncing_rsvps(rsvp_ids: list[int]) -> set[int]:
    """Which of these RSVPs have an email that failed for good: their address bounces."""
    if not rsvp_ids:
        return set()
    return set(
        db.session.scalars(
            select(OutboxMessage.rsvp_id)
            .where(OutboxMessage.rsvp_id.in_(rsvp_ids), OutboxMessage.status == OutboxStatus.FAILED)
            .distinct()
        )
    )
