"""Volunteers: sign-ups, confirming them, their changes, withdrawal, shift reminders.

Every function that fills or frees a place locks the event first (as RSVPs do),
so a shift's capacity is exact however many people confirm at once. What a
sign-up shares with an RSVP lives in `people`; rosters in `rosters`; organisers'
changes to roles and shifts in `shift_editing`. Functions add and flush; the
caller commits once.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, func, insert, literal, select
from sqlalchemy.orm import selectinload

from . import emails, people
from .dates import format_span
from .errors import VigilError
from .event_calendar import cancelled_entry
from .events import is_live, lock_event
from .extensions import db
from .models import (
    Event,
    EventStatus,
    Role,
    Shift,
    ShiftAssignment,
    SignupStatus,
    VolunteerSignup,
    utcnow,
)

log = logging.getLogger(__name__)


class ShiftProblem(VigilError):
    """A sign-up that breaks a rule; by default the message goes next to the shifts."""

    status_code = 422
    field = "shifts"


class VolunteeringClosed(VigilError):
    message = _l("This event is not taking volunteers.")


# ---------------------------------------------------------------- reading


def event_roles(event: Event) -> list[Role]:
    """With their shifts, in one more query rather than one per role."""
    return list(
        db.session.scalars(
            select(Role)
            .where(Role.event_id == event.id)
            .order_by(Role.position, Role.id)
            .options(selectinload(Role.shifts))
        )
    )


def shift_fill(event: Event) -> Counter:
    """How many people each shift of the event has: confirmed sign-ups only, since a
    pending one asks for its shifts without holding them."""
    rows = db.session.execute(
        select(ShiftAssignment.shift_id, func.count())
        .join(Shift)
        .join(Role)
        .join(VolunteerSignup, VolunteerSignup.id == ShiftAssignment.signup_id)
        .where(Role.event_id == event.id, VolunteerSignup.status == SignupStatus.ACTIVE)
        .group_by(ShiftAssignment.shift_id)
    ).all()
    return Counter(dict(rows))


def roles_needing_people(
    event: Event, now: datetime | None = None, roles: list[Role] | None = None
) -> list[Role]:
    """Roles with at least one upcoming shift that is not yet full (for the event page).
    `roles` saves loading them again when the caller has them."""
    now = now or utcnow()
    fill = shift_fill(event)
    return [
        role
        for role in (event_roles(event) if roles is None else roles)
        if any(s.starts_at > now and fill[s.id] < s.capacity for s in role.shifts)
    ]


# ---------------------------------------------------------------- rules


def _check_shifts(
    event: Event, shift_ids: list[int], now: datetime, keep: list[Shift] = ()
) -> list[Shift]:
    """The chosen shifts, or ShiftProblem naming what is wrong with the choice.

    `keep` are shifts the person already has: new ones must not overlap them.
    """
    if not shift_ids:
        raise ShiftProblem(_("Choose at least one shift."))
    if len(set(shift_ids)) != len(shift_ids):
        raise ShiftProblem(_("Each shift can be chosen only once."))
    shifts = list(
        db.session.scalars(
            select(Shift).join(Role).where(Shift.id.in_(shift_ids), Role.event_id == event.id)
        )
    )
    if len(shifts) != len(shift_ids):
        raise ShiftProblem(_("Choose shifts from this event's list."))
    if any(s.id in {k.id for k in keep} for s in shifts):
        raise ShiftProblem(_("You already have that shift."))
    fill = shift_fill(event)
    for shift in sorted(shifts, key=lambda s: s.starts_at):
        label = f"{shift.role.name}, {_shift_time(shift)}"
        if shift.starts_at <= now:
            raise ShiftProblem(_("The shift %(shift)s has already started.", shift=label))
        if fill[shift.id] >= shift.capacity:
            raise ShiftProblem(_("The shift %(shift)s is full.", shift=label))
    everything = sorted([*keep, *shifts], key=lambda s: s.starts_at)
    for earlier, later in zip(everything, everything[1:], strict=False):
        if later.starts_at < earlier.ends_at:
            raise ShiftProblem(
                _(
                    "The shifts %(a)s and %(b)s overlap in time: choose one of them.",
                    a=f"{earlier.role.name}, {_shift_time(earlier)}",
                    b=f"{later.role.name}, {_shift_time(later)}",
                )
            )
    return shifts


def _shift_time(shift: Shift) -> str:
    return format_span(shift.starts_at, shift.ends_at, shift.role.event.timezone)


def _check_phone(shifts: list[Shift], phone: str | None) -> None:
    if any(s.role.needs_phone for s in shifts) and not phone:
        raise ShiftProblem(
            _("A role you chose needs a phone number, so the coordinator can reach you."),
            field="phone",
        )


def needed_phone(shifts: list[Shift], phone: str | None) -> str | None:
    """A phone number is kept only while a role the person has needs one."""
    if any(s.role.needs_phone for s in shifts):
        return (phone or "").strip() or None
    return None


def choice_problems(
    event: Event, shift_ids: list[int], phone: str | None, now: datetime | None = None
) -> list[ShiftProblem]:
    """The shift rules a sign-up would break, read without a lock: so a form with other
    mistakes shows these too, every problem at once rather than one after another."""
    try:
        _check_phone(_check_shifts(event, list(shift_ids or []), now or utcnow()), phone)
    except ShiftProblem as problem:
        return [problem]
    return []


def _ensure_open(event: Event, now: datetime) -> None:
    if not is_live(event, now):
        raise VolunteeringClosed()


def ensure_confirmed(signup: VolunteerSignup) -> None:
    """Shifts and a calendar feed belong to confirmed sign-ups; a pending one confirms first."""
    if signup.status == SignupStatus.PENDING:
        raise ShiftProblem(_("Confirm your sign-up first: use the button at the top."))


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class SignupResult:
    signup: VolunteerSignup
    was_new: bool


def sign_up(
    event: Event,
    *,
    email: str,
    shift_ids: list[int],
    name: str | None = None,
    phone: str | None = None,
    languages: str | None = None,
    notes: str | None = None,
    quiet: bool = False,
    language: str | None = None,
    now: datetime | None = None,
) -> SignupResult:
    """Ask for shifts for a person, or (for a known address) only email a fresh link,
    unless one went lately or the address is `quiet` (as for RSVPs).

    A new sign-up is pending: it holds no place on its shifts until the person
    confirms from their mailbox (confirm_signup), so no public page changes because
    of a form anyone can send with anyone's address. The choice is checked the same
    way for a known address as for a new one, so the answer never tells whether the
    address had signed up. Raises VolunteeringClosed or ShiftProblem.
    """
    now = now or utcnow()
    event = lock_event(event, shared=True)
    _ensure_open(event, now)
    shifts = _check_shifts(event, shift_ids, now)
    _check_phone(shifts, phone)
    # Known and new addresses run the same statements from here on (see rsvps).
    arrival = people.add_unless_known(
        VolunteerSignup,
        event,
        email,
        link_kinds=emails.VOLUNTEER_LINK_KINDS,
        now=now,
        name=(name or "").strip() or None,
        phone=needed_phone(shifts, phone),
        languages=(languages or "").strip() or None,
        notes=(notes or "").strip() or None,
        status=SignupStatus.PENDING,
        confirm_by=people.confirmation_deadline(event, now),
        language=language,
        created_at=now,
        updated_at=now,
    )
    _assign_new(arrival.added, shifts, now)
    if arrival.added is not None:
        emails.queue_volunteer_pending(arrival.added)
        log.info("volunteer signed up signup=%s event=%s", arrival.added.id, event.id)
        return SignupResult(arrival.added, was_new=True)
    if not (arrival.link_sent_recently or quiet):
        emails.queue_manage_link(arrival.existing)
    log.info("volunteer repeated signup=%s event=%s", arrival.existing.id, event.id)
    return SignupResult(arrival.existing, was_new=False)


def confirm_signup(signup: VolunteerSignup, now: datetime | None = None) -> list[str]:
    """The person confirmed from their mailbox: each shift they asked for is theirs if
    it still has a place and has not started, first confirmed first served; the
    others are let go, and the email and page say which. Confirming twice changes
    nothing.

    Raises VolunteeringClosed once the event is over or cancelled. Returns the
    shifts let go, as the person reads them ("Steward, 10 Dec 13:00–15:00").
    """
    now = now or utcnow()
    event = people.lock(signup)
    if signup.status != SignupStatus.PENDING:
        return []
    _ensure_open(event, now)
    fill = shift_fill(event)
    missed = []
    for assignment in sorted(signup.assignments, key=lambda a: a.shift.starts_at):
        shift = assignment.shift
        if shift.starts_at <= now or fill[shift.id] >= shift.capacity:
            missed.append(f"{shift.role.name}, {_shift_time(shift)}")
            signup.assignments.remove(assignment)
    signup.status = SignupStatus.ACTIVE
    signup.confirm_by = None
    signup.phone = needed_phone(current_shifts(signup), signup.phone)
    signup.updated_at = now
    db.session.flush()
    emails.queue_volunteer_confirmation(signup, missed)
    log.info("volunteer confirmed signup=%s event=%s missed=%d", signup.id, event.id, len(missed))
    return missed


def expire_unconfirmed(now: datetime | None = None) -> int:
    """Erase sign-ups nobody confirmed in time: nothing of such an address is kept.
    They held no place, so nothing else moves."""
    now = now or utcnow()
    expired = db.session.scalars(
        select(VolunteerSignup).where(
            VolunteerSignup.status == SignupStatus.PENDING, VolunteerSignup.confirm_by < now
        )
    ).all()
    for signup in expired:
        people.erase(signup)
    if expired:
        log.info("unconfirmed volunteer sign-ups released count=%d", len(expired))
    return len(expired)


def _assign_new(signup: VolunteerSignup | None, shifts: list[Shift], now: datetime) -> None:
    """Put a sign-up just added on its shifts. For a known address (`signup` None) the
    same statement selects no sign-up, so it adds nothing."""
    signup_id = bindparam("signup_id", signup.id if signup else None, type_=Integer)
    chosen = (
        select(VolunteerSignup.id, Shift.id, literal(now, ShiftAssignment.created_at.type))
        .join(Role, Role.event_id == VolunteerSignup.event_id)
        .join(Shift, Shift.role_id == Role.id)
        .where(VolunteerSignup.id == signup_id, Shift.id.in_([s.id for s in shifts]))
    )
    db.session.execute(
        insert(ShiftAssignment).from_select(["signup_id", "shift_id", "created_at"], chosen)
    )


def current_shifts(signup: VolunteerSignup) -> list[Shift]:
    return sorted((a.shift for a in signup.assignments), key=lambda s: s.starts_at)


def add_shifts(
    signup: VolunteerSignup,
    shift_ids: list[int],
    phone: str | None = None,
    now: datetime | None = None,
) -> list[Shift]:
    """Add shifts to a sign-up: same checks as signing up, and no overlap with what it has."""
    now = now or utcnow()
    event = people.lock(signup)
    _ensure_open(event, now)
    ensure_confirmed(signup)
    shifts = _check_shifts(event, shift_ids, now, keep=current_shifts(signup))
    phone = (phone or "").strip() or signup.phone
    _check_phone(shifts, phone)
    signup.assignments.extend(ShiftAssignment(shift=s, created_at=now) for s in shifts)
    signup.calendar_changes += 1  # above any cancellation of a shift taken again
    signup.phone = needed_phone(current_shifts(signup), phone)
    signup.updated_at = now
    db.session.flush()
    emails.queue_volunteer_changed(signup)
    return shifts


def drop_shift(signup: VolunteerSignup, shift_id: int, now: datetime | None = None) -> None:
    """Give up one shift; the place is free for someone else at once."""
    now = now or utcnow()
    event = people.lock(signup)
    _ensure_open(event, now)
    ensure_confirmed(signup)
    assignment = next((a for a in signup.assignments if a.shift_id == shift_id), None)
    if assignment is None:
        raise ShiftProblem(_("That shift is not one of yours."))
    if len(signup.assignments) == 1:
        raise ShiftProblem(
            _("This is your only shift. To stop volunteering, withdraw below instead.")
        )
    struck = cancelled_entry(signup, assignment.shift)
    signup.calendar_changes += 1
    signup.assignments.remove(assignment)
    signup.phone = needed_phone(current_shifts(signup), signup.phone)
    signup.updated_at = now
    db.session.flush()
    emails.queue_volunteer_changed(signup, struck=(struck,))


def update_details(
    signup: VolunteerSignup,
    *,
    name: str | None,
    languages: str | None,
    phone: str | None,
    notes: str | None,
    now: datetime | None = None,
) -> bool:
    """Change what the person told the coordinator. A phone number is kept only while a
    role they hold needs one, and such a role cannot lose it. Returns whether anything
    changed. Raises ShiftProblem (phone) or VolunteeringClosed."""
    now = now or utcnow()
    event = people.lock(signup)
    _ensure_open(event, now)
    shifts = current_shifts(signup)
    _check_phone(shifts, phone)
    before = (signup.name, signup.languages, signup.phone, signup.notes)
    signup.name = (name or "").strip() or None
    signup.languages = (languages or "").strip() or None
    signup.phone = needed_phone(shifts, phone)
    signup.notes = (notes or "").strip() or None
    if before == (signup.name, signup.languages, signup.phone, signup.notes):
        return False
    signup.updated_at = now
    db.session.flush()
    return True


def withdraw(signup: VolunteerSignup) -> None:
    """Erase the sign-up, its shifts, links and emails (and their file copies)."""
    people.lock(signup)
    signup_id = signup.id
    people.erase(signup)
    log.info("volunteer withdrew signup=%s", signup_id)


# ---------------------------------------------------------------- reminders


def send_shift_reminders(now: datetime | None = None, within=timedelta(hours=24)) -> int:
    """One reminder per person per shift starting within `within`; never twice."""
    now = now or utcnow()
    assignments = db.session.scalars(
        select(ShiftAssignment)
        .join(Shift)
        .join(Role)
        .join(Event)
        .join(VolunteerSignup, VolunteerSignup.id == ShiftAssignment.signup_id)
        .where(
            Event.status == EventStatus.PUBLISHED,
            VolunteerSignup.status == SignupStatus.ACTIVE,
            Shift.starts_at > now,
            Shift.starts_at <= now + within,
        )
    ).all()
    count = sum(emails.queue_shift_reminder(a.signup, a.shift) for a in assignments)
    log.info("shift reminders queued=%d", count)
    return count
