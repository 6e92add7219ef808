"""RSVPs: take them, change them, cancel and erase them, and promote the waitlist.

Every function that touches places first locks the event (events.lock_event), so
counts stay exact when many people RSVP at once. What an RSVP shares with a
volunteer sign-up (finding the address, links, locking, erasure) lives in
`people`. Functions add and flush; the caller commits once.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from . import emails, people
from .errors import AddressTaken, InvalidState, NotEnoughPlaces, RsvpLocked
from .events import (
    ensure_rsvps_open,
    is_live,
    lock_event,
    needs_email_confirmation,
    places_taken,
)
from .extensions import db
from .models import Event, Rsvp, RsvpStatus, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RsvpResult:
    """What the person is told: `status` is what a new RSVP would get.

    For an address that already had an RSVP, `status` is still computed as for a
    new one, so the response never reveals that the address was known.
    """

    status: str
    rsvp: Rsvp
    was_new: bool


def _free_places(event: Event) -> int | None:
    if event.capacity is None:
        return None
    return event.capacity - places_taken(event)


def confirm_rsvp(rsvp: Rsvp, now: datetime | None = None) -> str:
    """The person opened their link and confirmed: a pending RSVP takes a place if the
    person and their guests fit, else joins the end of the waitlist (first confirmed,
    first served), and is emailed which. Confirming twice changes nothing.

    Raises RsvpLocked once the event is over or cancelled. Returns the status.
    """
    now = now or utcnow()
    event = people.lock(rsvp)
    if rsvp.status == RsvpStatus.PENDING:
        _ensure_changeable(rsvp, now)
        rsvp.status = RsvpStatus.CONFIRMED if fits(event, rsvp.places) else RsvpStatus.WAITLISTED
        rsvp.queued_at = now
        rsvp.confirm_by = None
        rsvp.updated_at = now
        db.session.flush()
        emails.queue_rsvp_confirmed(rsvp)
        log.info("rsvp confirmed rsvp=%s event=%s status=%s", rsvp.id, event.id, rsvp.status)
    elif rsvp.confirm_by is not None:
        # Stored before places were taken by confirming: it holds its place already.
        rsvp.confirm_by = None
        rsvp.updated_at = now
        db.session.flush()
        log.info("rsvp address confirmed rsvp=%s", rsvp.id)
    return rsvp.status


def expire_unconfirmed(now: datetime | None = None) -> int:
    """Release RSVPs whose confirmation time has passed.

    A pending one held nothing and is erased (nothing of an address nobody confirmed
    is kept). One stored before places were taken by confirming holds a place: it is
    never released without a word, so it becomes pending with a new deadline and is
    emailed that its place went and how to confirm now; the waitlist moves up into
    the place. Returns how many were released.
    """
    now = now or utcnow()
    event_ids = db.session.scalars(
        select(Rsvp.event_id).where(Rsvp.confirm_by < now).distinct()
    ).all()
    released = 0
    for event_id in event_ids:
        event = lock_event(db.session.get(Event, event_id))
        expired = db.session.scalars(
            select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.confirm_by < now)
        ).all()
        for rsvp in expired:
            if rsvp.status == RsvpStatus.PENDING or not is_live(event, now):
                people.erase(rsvp)
            else:
                rsvp.status = RsvpStatus.PENDING
                rsvp.confirm_by = people.confirmation_deadline(event, now)
                rsvp.updated_at = now
                db.session.flush()
                emails.queue_rsvp_released(rsvp)
        released += len(expired)
        log.info("unconfirmed rsvps released event=%s count=%d", event.id, len(expired))
        if is_live(event, now):
            promote_waitlist(event, now)
    return released


def status_for_new(event: Event) -> str:
    """What a new RSVP gets: pending where it must be confirmed from the mailbox (every
    event with limited places), else a place, since without a limit there is room.
    Reads no count, so the answer cannot depend on who else has RSVPed."""
    if needs_email_confirmation(event):
        return RsvpStatus.PENDING
    return RsvpStatus.CONFIRMED


def fits(event: Event, places: int) -> bool:
    free = _free_places(event)
    return free is None or places <= free


def create_rsvp(
    event: Event,
    *,
    email: str,
    name: str | None = None,
    guests: int = 0,
    accessibility: str | None = None,
    wants_updates: bool = False,
    quiet: bool = False,
    language: str | None = None,
    now: datetime | None = None,
) -> RsvpResult:
    """Take an RSVP: pending until the person confirms from their mailbox where that is
    needed (status_for_new), else with a place.

    Takes no place, so it needs only the shared lock, and no public page changes
    until someone confirms. Raises RsvpsClosed when the event does not take RSVPs.
    An address that already has an RSVP for this event changes nothing but its
    manage link, which is emailed afresh, unless one went lately or the address is
    `quiet` (past its rate limit: throttling.address_is_quiet). `language` is the
    page's, which every email to the person then uses.
    """
    now = now or utcnow()
    event = lock_event(event, shared=True)
    ensure_rsvps_open(event, now)
    if guests < 0:
        raise ValueError("guests must not be negative")
    status = status_for_new(event)
    deadline = people.confirmation_deadline(event, now)
    # Known and new addresses run the same statements from here on: a stranger who
    # types someone's address must not be able to tell which it was.
    arrival = people.add_unless_known(
        Rsvp,
        event,
        email,
        link_kinds=emails.RSVP_LINK_KINDS,
        now=now,
        drawn=lambda: {"checkin_code": draw_checkin_code()},
        **_rsvp_values(name=name, accessibility=accessibility, now=now),
        guests=guests,
        wants_updates=wants_updates,
        status=status,
        confirm_by=deadline if status == RsvpStatus.PENDING else None,
        language=language,
    )
    if arrival.added is not None:
        emails.queue_rsvp_received(arrival.added)
        log.info("rsvp created rsvp=%s event=%s status=%s", arrival.added.id, event.id, status)
        return RsvpResult(status=status, rsvp=arrival.added, was_new=True)
    if not (arrival.link_sent_recently or quiet):
        emails.queue_manage_link(arrival.existing)
    log.info("rsvp repeated rsvp=%s event=%s", arrival.existing.id, event.id)
    return RsvpResult(status=status, rsvp=arrival.existing, was_new=False)


def _rsvp_values(*, name, accessibility, now: datetime) -> dict:
    return dict(
        name=(name or "").strip() or None,
        accessibility=(accessibility or "").strip() or None,
        queued_at=now,
        created_at=now,
        updated_at=now,
    )


def _add_rsvp(event: Event, *, name, accessibility, now: datetime, **values) -> Rsvp:
    """Store a new RSVP with its check-in code and queue the email saying where it stands."""
    rsvp = Rsvp(
        event=event,
        checkin_code=new_checkin_code(event),
        **_rsvp_values(name=name, accessibility=accessibility, now=now),
        **values,
    )
    db.session.add(rsvp)
    db.session.flush()
    emails.queue_rsvp_received(rsvp)
    return rsvp


CHECKIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def draw_checkin_code() -> str:
    """Six characters: one in a billion, so a new RSVP draws one and lets the unique
    key catch the rare collision (people.add_unless_known)."""
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(6))


def new_checkin_code(event: Event) -> str:
    """A code checked free within the event (under the event lock)."""
    while True:
        code = draw_checkin_code()
        taken = db.session.scalar(
            select(Rsvp.id).where(Rsvp.event_id == event.id, Rsvp.checkin_code == code)
        )
        if taken is None:
            return code


def can_change(rsvp: Rsvp, now: datetime | None = None) -> bool:
    """RSVPs can change until the event ends or is cancelled; erasure is always possible."""
    return is_live(rsvp.event, now)


def _ensure_changeable(rsvp: Rsvp, now: datetime | None) -> None:
    if not can_change(rsvp, now):
        raise RsvpLocked()


def update_rsvp(
    rsvp: Rsvp,
    *,
    name: str | None,
    guests: int,
    accessibility: str | None,
    wants_updates: bool,
    now: datetime | None = None,
) -> list[Rsvp]:
    """Change the person's details; more guests on a confirmed RSVP must fit.

    Raises NotEnoughPlaces (nothing changed) or RsvpLocked. Returns RSVPs promoted
    from the waitlist by places this change freed.
    """
    now = now or utcnow()
    event = people.lock(rsvp)
    _ensure_changeable(rsvp, now)
    if guests < 0:
        raise ValueError("guests must not be negative")
    extra = guests - rsvp.guests
    if rsvp.status == RsvpStatus.CONFIRMED and extra > 0:
        free = _free_places(event)
        if free is not None and extra > free:
            raise NotEnoughPlaces(
                _(
                    "Only %(free)d more place(s) left, so you can bring at most %(max)d guest(s).",
                    free=free,
                    max=rsvp.guests + max(free, 0),
                ),
                field="guests",
            )
    before = (rsvp.name, rsvp.guests, rsvp.accessibility, rsvp.wants_updates)
    rsvp.name = (name or "").strip() or None
    rsvp.guests = guests
    rsvp.accessibility = (accessibility or "").strip() or None
    rsvp.wants_updates = wants_updates
    if before == (rsvp.name, rsvp.guests, rsvp.accessibility, rsvp.wants_updates):
        return []
    rsvp.updated_at = now
    db.session.flush()
    emails.queue_rsvp_changed(rsvp)
    return promote_waitlist(event, now)


def stop_updates(rsvp: Rsvp, now: datetime | None = None) -> None:
    """The person asked for no more optional messages (one-click from their mailbox).
    Nothing else changes, and nothing is sent to say so."""
    people.lock(rsvp)
    if rsvp.wants_updates:
        rsvp.wants_updates = False
        rsvp.updated_at = now or utcnow()
        db.session.flush()
        log.info("rsvp updates stopped rsvp=%s", rsvp.id)


def cancel_rsvp(rsvp: Rsvp, now: datetime | None = None, by_organisers: bool = False) -> list[Rsvp]:
    """Give up the place (or waitlist spot); returns RSVPs promoted into the freed places.
    Cancelled `by_organisers`, the person is told so, and cannot undo it."""
    now = now or utcnow()
    event = people.lock(rsvp)
    _ensure_changeable(rsvp, now)
    if rsvp.status == RsvpStatus.CANCELLED:
        raise InvalidState(_("This RSVP is already cancelled."))
    rsvp.status = RsvpStatus.CANCELLED
    rsvp.cancelled_by_organisers = by_organisers
    rsvp.updated_at = now
    db.session.flush()
    emails.queue_rsvp_cancelled(rsvp)
    log.info("rsvp cancelled rsvp=%s event=%s", rsvp.id, event.id)
    return promote_waitlist(event, now)


def restore_rsvp(rsvp: Rsvp, now: datetime | None = None) -> str:
    """Undo a cancellation: a place if one is free, otherwise the end of the waitlist.

    Raises RsvpLocked once the event is over or cancelled, or RsvpsClosed when the
    event no longer takes RSVPs. Returns the new status.
    """
    now = now or utcnow()
    event = people.lock(rsvp)
    _ensure_changeable(rsvp, now)
    ensure_rsvps_open(event, now)
    if rsvp.status != RsvpStatus.CANCELLED:
        raise InvalidState(_("This RSVP is not cancelled."))
    if rsvp.cancelled_by_organisers:
        raise InvalidState(
            _("The organisers cancelled this RSVP, so it cannot be undone here. Ask them.")
        )
    if fits(event, rsvp.places):
        rsvp.status = RsvpStatus.CONFIRMED
    else:
        rsvp.status = RsvpStatus.WAITLISTED
        rsvp.queued_at = now
    rsvp.confirm_by = None  # undone from the private link: the mailbox is the person's
    rsvp.updated_at = now
    db.session.flush()
    emails.queue_rsvp_restored(rsvp)
    log.info("rsvp restored rsvp=%s event=%s status=%s", rsvp.id, event.id, rsvp.status)
    return rsvp.status


def erase_rsvp(rsvp: Rsvp, now: datetime | None = None) -> list[Rsvp]:
    """Delete the row, its links, its emails (sent or not, and their file copies);
    a freed place goes to the waitlist."""
    now = now or utcnow()
    event = people.lock(rsvp)
    rsvp_id = rsvp.id
    people.erase(rsvp)
    log.info("rsvp erased rsvp=%s event=%s", rsvp_id, event.id)
    return promote_waitlist(event, now) if is_live(event, now) else []


def promote_waitlist(event: Event, now: datetime | None = None) -> list[Rsvp]:
    """Confirm the earliest waitlisted RSVPs that fit the free places, in waitlist order.

    A large group that does not fit does not block smaller ones behind it; it keeps
    its position for the next freed place. Call with the event locked.
    """
    free = _free_places(event)
    waiting = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.WAITLISTED)
        .order_by(Rsvp.queued_at, Rsvp.id)
    ).all()
    promoted = []
    for rsvp in waiting:
        if free is not None and rsvp.places > free:
            continue
        rsvp.status = RsvpStatus.CONFIRMED
        rsvp.updated_at = now or utcnow()
        promoted.append(rsvp)
        if free is not None:
            free -= rsvp.places
            if free <= 0:
                break
    if promoted:
        db.session.flush()
        for rsvp in promoted:
            emails.queue_rsvp_promoted(rsvp)
        log.info("waitlist promoted event=%s count=%d", event.id, len(promoted))
    return promoted


# ---------------------------------------------------------------- organisers' hand


def add_walk_up(
    event: Event,
    *,
    email: str | None,
    name: str | None = None,
    guests: int = 0,
    accessibility: str | None = None,
    check_in: bool = False,
    now: datetime | None = None,
) -> Rsvp:
    """An RSVP an organiser adds for someone at the spot or on the phone.

    Works until the event ends, after RSVPs have closed too, since walk-ups come on
    the day. The address is optional: without one the person gets no email. Places
    count as for anyone else, so a walk-up who does not fit is waitlisted. Raises
    RsvpLocked when the event is not published or is over, AddressTaken when the
    address has an RSVP for this event already.
    """
    now = now or utcnow()
    event = lock_event(event)
    if not is_live(event, now):
        raise RsvpLocked(_("This event is over or not published, so nobody can be added."))
    if email and people.find_by_address(Rsvp, event, email) is not None:
        raise AddressTaken()
    status = RsvpStatus.CONFIRMED if fits(event, 1 + guests) else RsvpStatus.WAITLISTED
    rsvp = _add_rsvp(
        event,
        email=email.strip() if email else None,
        email_key=people.email_lookup(email) if email else None,
        name=name,
        guests=guests,
        accessibility=accessibility,
        wants_updates=False,
        status=status,
        now=now,
        checked_in_at=now if check_in and status == RsvpStatus.CONFIRMED else None,
    )
    log.info("walk-up added rsvp=%s event=%s status=%s", rsvp.id, event.id, status)
    return rsvp


def promote_rsvp(rsvp: Rsvp, now: datetime | None = None) -> None:
    """Give one waitlisted RSVP a place out of turn, if it fits.

    Capacity still holds: to take more people, the organiser raises the event's
    capacity first (which promotes in waitlist order). Raises NotEnoughPlaces or
    InvalidState.
    """
    now = now or utcnow()
    event = people.lock(rsvp)
    _ensure_changeable(rsvp, now)
    if rsvp.status != RsvpStatus.WAITLISTED:
        raise InvalidState(_("Only a waitlisted RSVP can be moved up."))
    if not fits(event, rsvp.places):
        raise NotEnoughPlaces(
            _("Not enough places left for this RSVP. Raise the event's capacity first.")
        )
    rsvp.status = RsvpStatus.CONFIRMED
    rsvp.updated_at = now
    db.session.flush()
    emails.queue_rsvp_promoted(rsvp)
    log.info("rsvp promoted by organiser rsvp=%s event=%s", rsvp.id, event.id)
