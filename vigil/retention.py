"""Retention: attendees' and volunteers' details go a set time after their event ends.

The numbers stay (how many came, how many were checked in, how many volunteered),
for the organisers' records; names, addresses, phone numbers, access needs, every
email to them and every file copy of one are deleted. The worker runs this once a
day (and `flask --app vigil purge` on demand), and commits it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from . import audit, mail_files, outbox
from .events import rsvp_counts
from .extensions import db
from .models import Event, OutboxMessage, Rsvp, VolunteerSignup, utcnow
from .throttling import forget_addresses

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    event_id: int
    slug: str
    rsvps: int
    signups: int
    messages: list[int]  # outbox ids deleted, whose file copies go at commit


def retention(event: Event, default_days: int) -> timedelta:
    days = event.retention_days if event.retention_days is not None else default_days
    return timedelta(days=days)


def due_events(default_days: int, now: datetime | None = None) -> list[Event]:
    """Ended events whose retention period is over and whose details are still here.

    On PostgreSQL the rows are locked and ones another worker holds are skipped, so
    two workers never purge the same event at once.
    """
    now = now or utcnow()
    ended = db.session.scalars(
        select(Event)
        .where(Event.ends_at <= now, Event.purged_at.is_(None))
        .order_by(Event.ends_at)
        .with_for_update(skip_locked=True)
    )
    return [e for e in ended if e.ends_at + retention(e, default_days) <= now]


def _count(model, event: Event) -> int:
    return db.session.scalar(select(func.count()).where(model.event_id == event.id))


def kept_numbers(event: Event) -> dict:
    counts = rsvp_counts([event.id]).get(event.id)
    checked_in = db.session.scalar(
        select(func.count()).where(Rsvp.event_id == event.id, Rsvp.checked_in_at.is_not(None))
    )
    return {
        "confirmed": counts.confirmed if counts else 0,
        "waitlisted": counts.waitlisted if counts else 0,
        "cancelled": counts.cancelled if counts else 0,
        "guests": counts.guests if counts else 0,
        "checked_in": checked_in,
        "volunteers": _count(VolunteerSignup, event),
    }


def purge_event(event: Event, now: datetime | None = None) -> Purged:
    """Delete the event's personal data in the caller's transaction; keep its numbers."""
    now = now or utcnow()
    numbers = kept_numbers(event)
    # Rate-limit counters are keyed by a hash of the address: those go too.
    forget_addresses(
        [
            *db.session.scalars(select(Rsvp.email).where(Rsvp.event_id == event.id)),
            *db.session.scalars(
                select(VolunteerSignup.email).where(VolunteerSignup.event_id == event.id)
            ),
        ]
    )
    messages = outbox.forget(OutboxMessage.event_id == event.id)
    mail_files.remove_after_commit(messages)
    rsvps = db.session.execute(delete(Rsvp).where(Rsvp.event_id == event.id)).rowcount
    signups = db.session.execute(
        delete(VolunteerSignup).where(VolunteerSignup.event_id == event.id)
    ).rowcount
    event.purged_at = now
    event.purged_counts = numbers
    audit.record(None, "purge personal data", event, rows=rsvps + signups)
    log.info(
        "purged event=%s rsvps=%d signups=%d messages=%d", event.id, rsvps, signups, len(messages)
    )
    return Purged(event.id, event.slug, rsvps, signups, messages)


def purge(default_days: int, now: datetime | None = None) -> list[Purged]:
    """Purge every due event in the caller's transaction; the caller commits, and the
    mail file copies go when it does."""
    return [purge_event(event, now) for event in due_events(default_days, now)]
