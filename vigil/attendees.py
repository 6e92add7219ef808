"""Telling attendees about their event: changes, cancellation, reminders, organiser messages.

Each function decides who is told and queues one message per person through the
outbox, in the caller's transaction. Dedupe keys make every one safe to run twice.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from . import emails, people
from .extensions import db
from .models import Event, EventStatus, Rsvp, RsvpStatus, utcnow

log = logging.getLogger(__name__)

ACTIVE = (RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED)


class Audience:
    CONFIRMED = "confirmed"  # everyone with a place
    UPDATES = "updates"  # only people who asked for updates (confirmed or waitlisted)
    ALL = (CONFIRMED, UPDATES)


def _rsvps(event: Event, *conditions) -> list[Rsvp]:
    return list(
        db.session.scalars(
            select(Rsvp).where(Rsvp.event_id == event.id, *conditions).order_by(Rsvp.id)
        )
    )


def notify_event_changed(event: Event, before: dict | None = None) -> int:
    """Email every active RSVP the new time or place (beside `before`, the old ones),
    with the updated calendar file; without `before`, that the event is back on."""
    count = sum(
        emails.queue_event_changed(r, before) for r in _rsvps(event, Rsvp.status.in_(ACTIVE))
    )
    log.info("event changed event=%s sequence=%s notified=%d", event.id, event.sequence, count)
    return count


def notify_event_cancelled(event: Event) -> int:
    count = sum(emails.queue_event_cancelled(r) for r in _rsvps(event, Rsvp.status.in_(ACTIVE)))
    log.info("event cancelled event=%s notified=%d", event.id, count)
    return count


def send_reminders(now: datetime | None = None, within: timedelta = timedelta(hours=24)) -> int:
    """Queue one reminder per confirmed RSVP of events starting within `within`.

    Running it again reminds nobody twice; an event moved to a new time gets a new
    reminder, since the old one named the wrong time.
    """
    now = now or utcnow()
    events = db.session.scalars(
        select(Event).where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            Event.starts_at <= now + within,
        )
    ).all()
    count = 0
    for event in events:
        for rsvp in _rsvps(event, Rsvp.status == RsvpStatus.CONFIRMED):
            count += emails.queue_reminder(rsvp)
    log.info("reminders queued=%d events=%d", count, len(events))
    return count


def message_recipients(event: Event, audience: str) -> list[Rsvp]:
    if audience == Audience.CONFIRMED:
        return _rsvps(event, Rsvp.status == RsvpStatus.CONFIRMED)
    if audience == Audience.UPDATES:
        return _rsvps(event, Rsvp.status.in_(ACTIVE), Rsvp.wants_updates.is_(True))
    raise ValueError(f"unknown audience {audience!r}")


def reader_languages(recipients: list[Rsvp]) -> dict[str, int]:
    """How many recipients read each language ("en" for those from before it was kept),
    most read first: the organisers see whom a text in one language leaves out."""
    counts = Counter(r.language or "en" for r in recipients)
    return dict(counts.most_common())


def message_attendees(
    event: Event,
    *,
    subject: str,
    body: str,
    audience: str,
    message_key: str,
    translations: dict[str, tuple[str, str]] | None = None,
) -> int:
    """Queue an organiser's message to the chosen attendees; returns how many were queued.

    `message_key` identifies this message (the organiser's form carries it), so a
    form posted twice sends nothing twice. Messages to people who opted into updates
    are non-essential and carry List-Unsubscribe. `translations` gives the subject
    and text for readers of a language ({"zh_Hans": (subject, body)}); the others
    get `subject` and `body`.
    """
    optional = audience == Audience.UPDATES
    texts = translations or {}
    count = sum(
        emails.queue_organiser_message(
            r, message_key, *texts.get(r.language or "en", (subject, body)), optional
        )
        for r in message_recipients(event, audience)
    )
    log.info("organiser message event=%s audience=%s queued=%d", event.id, audience, count)
    return count


# ---------------------------------------------------------------- the organisers' list

PAGE_SIZE = 50


@dataclass(frozen=True)
class AttendeePage:
    rows: list[Rsvp]
    total: int
    page: int
    pages: int


def _base_filters(event: Event, status: str | None) -> list:
    conditions = [Rsvp.event_id == event.id]
    if status in RsvpStatus.ALL:
        conditions.append(Rsvp.status == status)
    return conditions


def _matches(query: str):
    """Names and addresses are encrypted in the database, so a search by part of one
    decrypts and compares here, case-insensitively."""
    needle = query.strip().casefold()

    def match(name: str | None, email: str | None) -> bool:
        return needle in (name or "").casefold() or needle in (email or "").casefold()

    return match


def matching_ids(conditions: list, query: str, order) -> list[int]:
    """Ids of the RSVPs matching `query`, in `order`; read in chunks, never all at once."""
    match = _matches(query)
    rows = db.session.execute(
        select(Rsvp.id, Rsvp.name, Rsvp.email)
        .where(*conditions)
        .order_by(*order)
        .execution_options(yield_per=2000)
    )
    return [rsvp_id for rsvp_id, name, email in rows if match(name, email)]


def attendee_page(
    event: Event,
    *,
    query: str | None = None,
    status: str | None = None,
    newest_first: bool = False,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> AttendeePage:
    """One page of an event's RSVPs: search by name or email, filter by status, by time.

    Without a search only the page's rows are loaded (plus a count), however many
    RSVPs there are. A search decrypts names and addresses in chunks and loads the
    page's rows by id.
    """
    conditions = _base_filters(event, status)
    order = (Rsvp.created_at.desc(), Rsvp.id.desc()) if newest_first else (Rsvp.created_at, Rsvp.id)
    if query and query.strip():
        ids = matching_ids(conditions, query, order)
        total = len(ids)
        pages = max((total + per_page - 1) // per_page, 1)
        page = min(max(page, 1), pages)
        wanted = ids[(page - 1) * per_page : page * per_page]
        found = {r.id: r for r in db.session.scalars(select(Rsvp).where(Rsvp.id.in_(wanted)))}
        return AttendeePage([found[i] for i in wanted if i in found], total, page, pages)
    total = db.session.scalar(select(func.count()).select_from(Rsvp).where(*conditions))
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        select(Rsvp)
        .where(*conditions)
        .order_by(*order)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AttendeePage(rows=list(rows), total=total, page=page, pages=pages)


ATTENDEE_COLUMNS = [
    "name",
    "email",
    "status",
    "check-in code",
    "guests",
    "access needs",
    "wants updates",
    "checked in",
    "rsvp at (UTC)",
]


def attendee_rows(event: Event):
    """Every RSVP of the event as spreadsheet rows, read in chunks (constant memory)."""
    result = db.session.execute(
        select(
            Rsvp.name,
            Rsvp.email,
            Rsvp.status,
            Rsvp.checkin_code,
            Rsvp.guests,
            Rsvp.accessibility,
            Rsvp.wants_updates,
            Rsvp.checked_in_at,
            Rsvp.created_at,
        )
        .where(Rsvp.event_id == event.id)
        .order_by(Rsvp.created_at, Rsvp.id)
        .execution_options(yield_per=1000)
    )
    for name, address, status, code, guests, access, updates, checked_in, created in result:
        yield [
            name or "",
            address,
            status,
            code or "",
            guests,
            access or "",
            "yes" if updates else "no",
            checked_in.strftime("%Y-%m-%d %H:%M") if checked_in else "",
            created.strftime("%Y-%m-%d %H:%M"),
        ]


# ---------------------------------------------------------------- check-in at the spot


# A steward at the spot needs one person, not a list: a check-in search shows this
# many at most, so it cannot be used to page through who is coming.
CHECK_IN_RESULTS = 5


def find_for_check_in(event: Event, query: str) -> list[Rsvp]:
    """Confirmed RSVPs whose check-in code is the query, or whose address or name is
    the query typed in full (case and spacing aside): never a part of one, so "@" or
    "a" finds nobody. At most CHECK_IN_RESULTS.

    A code or an address is found by its index at once; a name by decrypting the
    event's confirmed RSVPs in chunks.
    """
    text = " ".join(query.split())
    if not text:
        return []
    confirmed = [Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.CONFIRMED]
    code = text.upper().replace(" ", "")
    found = list(
        db.session.scalars(
            select(Rsvp).where(
                *confirmed,
                or_(Rsvp.checkin_code == code, Rsvp.email_key.in_(people.email_lookups(text))),
            )
        )
    )
    if len(found) < CHECK_IN_RESULTS:
        wanted = text.casefold()
        rows = db.session.execute(
            select(Rsvp.id, Rsvp.name)
            .where(*confirmed)
            .order_by(Rsvp.created_at, Rsvp.id)
            .execution_options(yield_per=2000)
        )
        ids = [i for i, name in rows if " ".join((name or "").split()).casefold() == wanted]
        known = {r.id for r in found}
        ids = [i for i in ids if i not in known][: CHECK_IN_RESULTS - len(found)]
        if ids:
            by_name = db.session.scalars(select(Rsvp).where(Rsvp.id.in_(ids))).all()
            found += sorted(by_name, key=lambda r: r.id)
    return found[:CHECK_IN_RESULTS]


def check_in_sheet(event: Event) -> list[Rsvp]:
    """Everyone with a place, by name, for the printed list stewards fall back on when
    the signal drops: names are stored encrypted, so they are sorted here."""
    confirmed = _rsvps(event, Rsvp.status == RsvpStatus.CONFIRMED)

    def by_name(rsvp: Rsvp):
        name = " ".join((rsvp.name or "").split()).casefold()
        return (not name, name, rsvp.id)  # the unnamed last, by their codes' order

    return sorted(confirmed, key=by_name)


def set_checked_in(rsvp: Rsvp, checked_in: bool, now: datetime | None = None) -> None:
    """Check a person in (or undo it). Only confirmed RSVPs of the event can be."""
    if rsvp.status != RsvpStatus.CONFIRMED:
        raise ValueError("only confirmed RSVPs are checked in")
    rsvp.checked_in_at = (now or utcnow()) if checked_in else None
    if checked_in:
        rsvp.confirm_by = None  # here in person: no need to confirm by email any more
