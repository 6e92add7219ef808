"""Events: what the public may see, whether RSVPs are open, and changes that move an event."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from .database import take_write_lock
from .errors import RsvpsClosed
from .event_rules import is_slug
from .extensions import db
from .models import Event, EventStatus, Rsvp, RsvpStatus, utcnow

# How far back the public calendar feed reaches.
FEED_HISTORY = timedelta(days=30)

# A change to any of these moves the event in time or space: calendars must update.
TIME_AND_PLACE_FIELDS = (
    "starts_at",
    "ends_at",
    "timezone",
    "venue",
    "street_address",
    "locality",
    "postcode",
    "latitude",
    "longitude",
)


class RsvpWindow(StrEnum):
    OPEN = "open"
    DRAFT = "draft"
    CANCELLED = "cancelled"
    ENDED = "ended"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"


RSVP_WINDOW_MESSAGES = {
    RsvpWindow.DRAFT: _l("This event is not published, so it is not taking RSVPs."),
    RsvpWindow.CANCELLED: _l("This event has been cancelled, so it is not taking RSVPs."),
    RsvpWindow.ENDED: _l("This event has ended, so RSVPs are closed."),
    RsvpWindow.NOT_YET_OPEN: _l("RSVPs for this event have not opened yet."),
    RsvpWindow.CLOSED: _l("RSVPs for this event are closed."),
}


def has_ended(event: Event, now: datetime | None = None) -> bool:
    return event.ends_at <= (now or utcnow())


def needs_email_confirmation(event: Event) -> bool:
    """Whether a new RSVP waits, holding nothing, until confirmed from the mailbox.

    Always where places are limited: a place taken by the form would tell anyone who
    types someone's address whether that person had RSVPed (the count would not
    move for a known address), and a flood of made-up addresses could take every
    place. Without a limit nothing public moves, so it is the organiser's choice
    (off by default: see the README on why).
    """
    if event.capacity is not None:
        return True
    return bool(event.confirm_by_email)


def is_live(event: Event, now: datetime | None = None) -> bool:
    """Published and not over: attendees can still change their plans."""
    return event.status == EventStatus.PUBLISHED and not has_ended(event, now)


def rsvp_window(event: Event, now: datetime | None = None) -> RsvpWindow:
    """Why an event does or does not take RSVPs at this moment.

    Without an explicit closing time, RSVPs stay open until the event ends, so people
    who decide on the day can still say they are coming.
    """
    now = now or utcnow()
    if event.status == EventStatus.DRAFT:
        return RsvpWindow.DRAFT
    if event.status == EventStatus.CANCELLED:
        return RsvpWindow.CANCELLED
    if has_ended(event, now):
        return RsvpWindow.ENDED
    if event.rsvp_opens_at and now < event.rsvp_opens_at:
        return RsvpWindow.NOT_YET_OPEN
    if event.rsvp_closes_at and now >= event.rsvp_closes_at:
        return RsvpWindow.CLOSED
    return RsvpWindow.OPEN


def ensure_rsvps_open(event: Event, now: datetime | None = None) -> None:
    """Raise RsvpsClosed with the reason a person can read."""
    window = rsvp_window(event, now)
    if window != RsvpWindow.OPEN:
        raise RsvpsClosed(RSVP_WINDOW_MESSAGES[window])


def places_taken_query(event_id):
    """Confirmed people plus their guests, for an event id or a column to correlate with."""
    return select(func.coalesce(func.sum(1 + Rsvp.guests), 0)).where(
        Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.CONFIRMED
    )


def places_taken(event: Event) -> int:
    return db.session.scalar(places_taken_query(event.id))


def places_left(event: Event) -> int | None:
    """None when the event has no capacity limit."""
    if event.capacity is None:
        return None
    return max(event.capacity - places_taken(event), 0)


def public_event(slug: str) -> Event | None:
    """A published or cancelled event by slug; drafts do not exist for the public.

    Anything not shaped like a slug (null bytes, odd Unicode) is turned away before
    it reaches the database.
    """
    if not is_slug(slug):
        return None
    return db.session.scalar(
        select(Event).where(
            Event.slug == slug, Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED])
        )
    )


@dataclass
class EventListing:
    upcoming: list[Event]
    past: list[Event]


def list_public_events(now: datetime | None = None) -> EventListing:
    """Upcoming events soonest first, then past events most recent first."""
    now = now or utcnow()
    visible = Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED])
    upcoming = db.session.scalars(
        select(Event).where(visible, Event.ends_at > now).order_by(Event.starts_at, Event.id)
    ).all()
    past = db.session.scalars(
        select(Event).where(visible, Event.ends_at <= now).order_by(Event.starts_at.desc())
    ).all()
    return EventListing(upcoming=list(upcoming), past=list(past))


@dataclass(frozen=True)
class EventChange:
    changed: bool
    moved: bool  # the time or the place changed
    cancelled: bool  # this change cancelled the event
    reinstated: bool  # this change published a cancelled event again
    capacity_changed: bool


def _in_feed(now: datetime):
    return or_(
        and_(Event.status == EventStatus.PUBLISHED, Event.ends_at >= now - FEED_HISTORY),
        and_(Event.status == EventStatus.CANCELLED, Event.ends_at >= now),
    )


def feed_events(now: datetime | None = None) -> list[Event]:
    """What the public feed carries: published events from 30 days ago onward, and
    cancelled ones until they have passed (so calendars learn of the cancellation)."""
    condition = _in_feed(now or utcnow())
    return list(
        db.session.scalars(select(Event).where(condition).order_by(Event.starts_at, Event.id))
    )


def feed_fingerprint(now: datetime | None = None) -> tuple[tuple, datetime | None]:
    """A cheap summary that changes whenever the feed's content does, and its last change.

    Every stored change raises an event's revision, so the revision sum moves; an
    event entering or leaving the feed changes the count and the id sum. A calendar
    app's conditional request is answered from this one aggregate query, without
    loading a single event.
    """
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Event.id), 0),
            func.coalesce(func.sum(Event.revision), 0),
            func.max(Event.updated_at),
        ).where(_in_feed(now or utcnow()))
    ).one()
    count, id_sum, revision_sum, latest = row
    return (count, id_sum, revision_sum, latest.isoformat() if latest else None), latest


def apply_event_changes(event: Event, changes: dict) -> EventChange:
    """Set the given fields; raise the sequence number when calendars must update.

    A stored event's sequence rises when its time or place moves, when it is
    cancelled, and when a cancelled event is published again. New events (not yet
    flushed) keep sequence 0.
    """
    changed = {k: v for k, v in changes.items() if getattr(event, k) != v}
    was_cancelled = event.status == EventStatus.CANCELLED
    for key, value in changed.items():
        setattr(event, key, value)
    moved = any(k in TIME_AND_PLACE_FIELDS for k in changed)
    cancelled = not was_cancelled and event.status == EventStatus.CANCELLED
    reinstated = was_cancelled and event.status == EventStatus.PUBLISHED
    if event.id is not None and (moved or cancelled or reinstated):
        event.sequence = (event.sequence or 0) + 1
    return EventChange(
        changed=bool(changed),
        moved=moved,
        cancelled=cancelled,
        reinstated=reinstated,
        capacity_changed="capacity" in changed and event.id is not None,
    )


def lock_event(event: Event, *, shared: bool = False) -> Event:
    """Hold the event's row lock until commit, and reload it, so capacity checks are exact.

    PostgreSQL takes a row lock (`SELECT ... FOR UPDATE`); `shared` takes `FOR SHARE`
    instead, which any number of RSVPs to an event without a limit hold at once,
    while a change to the event itself (which takes the full lock) waits for them
    and they for it. On SQLite a write transaction begins with `BEGIN IMMEDIATE`,
    which holds the database write lock; a public form that read first ends its read
    here and begins that (see database.py).
    """
    event_id = event.id  # read before the lock: taking it may expire the object
    take_write_lock()
    locked = db.session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    )
    return locked


@dataclass(frozen=True)
class RsvpCounts:
    pending: int = 0  # not confirmed from the mailbox yet: they hold nothing
    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    guests: int = 0  # guests of confirmed RSVPs
    checked_in: int = 0  # people at the spot, guests included

    @property
    def expected(self) -> int:
        """Confirmed people with their guests: whom the stewards expect."""
        return self.confirmed + self.guests


def rsvp_counts(event_ids: list[int]) -> dict[int, RsvpCounts]:
    """RSVP numbers for many events in one grouped query (the dashboard's)."""
    if not event_ids:
        return {}
    arrived = case((Rsvp.checked_in_at.is_not(None), 1 + Rsvp.guests), else_=0)
    rows = db.session.execute(
        select(
            Rsvp.event_id,
            Rsvp.status,
            func.count(),
            func.coalesce(func.sum(Rsvp.guests), 0),
            func.coalesce(func.sum(arrived), 0),
        )
        .where(Rsvp.event_id.in_(event_ids))
        .group_by(Rsvp.event_id, Rsvp.status)
    ).all()
    found: dict[int, dict] = {}
    for event_id, status, count, guests, checked_in in rows:
        values = found.setdefault(event_id, {})
        values[status] = count
        if status == RsvpStatus.CONFIRMED:
            values["guests"] = int(guests)
            values["checked_in"] = int(checked_in)
    return {event_id: RsvpCounts(**values) for event_id, values in found.items()}
