"""What the public pages show that changes without anyone editing the event: whether
places are left, which shifts are open, where each event stands in time.

The page cache (page_cache.py) re-renders a page only when this summary changes, so
a crowd of RSVPs costs a couple of small queries per page view, not a render. Each
summary comes with the moment the mere passing of time will change it.
"""

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import case, func, select

from .event_rules import is_slug
from .events import FEED_HISTORY, feed_fingerprint, places_taken_query, rsvp_window
from .extensions import db
from .models import Event, EventStatus, Role, Shift, ShiftAssignment, utcnow

VISIBLE = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


@dataclass(frozen=True)
class PageState:
    shows: tuple  # everything the page shows besides the event's own fields
    valid_until: datetime | None  # when time alone changes `shows`; None: never
    # Which tallies can change `shows` (page_cache.KINDS): "places" where RSVPs are
    # counted against a limit, "shifts" where volunteers fill shifts. A change to
    # the events themselves always can.
    counts: frozenset = frozenset()


def event_state(slug: str, now: datetime | None = None) -> PageState | None:
    """For an event's page and its volunteer page; None when the public cannot see it.

    Two queries: the event with its places taken, and its shifts with their fill.
    """
    if not is_slug(slug):
        return None
    now = now or utcnow()
    taken = places_taken_query(Event.id).scalar_subquery()
    row = db.session.execute(
        select(
            Event.id,
            Event.status,
            Event.capacity,
            Event.ends_at,
            Event.rsvp_opens_at,
            Event.rsvp_closes_at,
            taken,
        ).where(Event.slug == slug, Event.status.in_(VISIBLE))
    ).one_or_none()
    if row is None:
        return None
    event_id, status, capacity, ends_at, opens_at, closes_at, places_taken = row
    # rsvp_window reads only these four fields.
    times = SimpleNamespace(
        status=status, ends_at=ends_at, rsvp_opens_at=opens_at, rsvp_closes_at=closes_at
    )
    window = rsvp_window(times, now)
    shifts = db.session.execute(
        select(Shift.id, Shift.capacity, Shift.starts_at, func.count(ShiftAssignment.shift_id))
        .join(Role, Shift.role_id == Role.id)
        .outerjoin(ShiftAssignment, ShiftAssignment.shift_id == Shift.id)
        .where(Role.event_id == event_id)
        .group_by(Shift.id, Shift.capacity, Shift.starts_at)
        .order_by(Shift.id)
    ).all()
    shows = (
        window,
        None if capacity is None else places_taken < capacity,
        tuple((sid, starts > now, fill >= cap) for sid, cap, starts, fill in shifts),
    )
    moments = [opens_at, closes_at, ends_at, *(starts for _id, _cap, starts, _fill in shifts)]
    counts = {"places"} if capacity is not None else set()
    counts |= {"shifts"} if shifts else set()
    return PageState(shows, _next(moments, now), frozenset(counts))


def listing_state(now: datetime | None = None) -> PageState:
    """For the home page: which visible events are still to come. One query."""
    now = now or utcnow()
    rows = db.session.execute(select(Event.id, Event.ends_at).where(Event.status.in_(VISIBLE)))
    rows = rows.all()
    upcoming = tuple(sorted(event_id for event_id, ends_at in rows if ends_at > now))
    return PageState(upcoming, _next([ends_at for _id, ends_at in rows], now))


def feed_state(now: datetime | None = None) -> PageState:
    """For the public feed: its fingerprint, and when the next event leaves it. Two
    aggregate queries, no event loaded."""
    now = now or utcnow()
    fingerprint, _latest = feed_fingerprint(now)
    cancelled = Event.status == EventStatus.CANCELLED
    published = Event.status == EventStatus.PUBLISHED
    last_cancelled, last_published = db.session.execute(
        select(
            func.min(case((cancelled & (Event.ends_at >= now), Event.ends_at))),
            func.min(case((published & (Event.ends_at >= now - FEED_HISTORY), Event.ends_at))),
        )
    ).one()
    leaving = [last_cancelled, last_published + FEED_HISTORY if last_published else None]
    return PageState(fingerprint, _next(leaving, now))


def _next(moments, now: datetime) -> datetime | None:
    future = [m for m in moments if m is not None and m > now]
    return min(future) if future else None
