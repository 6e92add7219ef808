"""Volunteers: roles and shifts, sign-ups, changes, withdrawal, rosters.

Every function that fills or frees a place locks the event first (as RSVPs do),
so a shift's capacity is exact however many people sign up at once. Functions
add and flush; the caller commits once.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from . import mail_files, outbox, volunteer_emails
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
    VolunteerSignup,
    VolunteerToken,
    utcnow,
)
from .rsvps import REPEAT_LINK_INTERVAL, email_lookup, email_lookups
from .tokens import hash_token, is_token_shaped, new_token

log = logging.getLogger(__name__)


class ShiftProblem(VigilError):
    """A sign-up that breaks a rule; `field` says which form field the message belongs to."""

    status_code = 422

    def __init__(self, message, field: str = "shifts"):
        super().__init__(message)
        self.field = field


class VolunteeringClosed(VigilError):
    message = _l("This event is not taking volunteers.")


class SignupGone(VigilError):
    message = _l("This sign-up no longer exists.")
    status_code = 404


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
    """How many people each shift of the event has."""
    rows = db.session.execute(
        select(ShiftAssignment.shift_id, func.count())
        .join(Shift)
        .join(Role)
        .where(Role.event_id == event.id)
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


def _needed_phone(shifts: list[Shift], phone: str | None) -> str | None:
    """A phone number is kept only while a role the person has needs one."""
    if any(s.role.needs_phone for s in shifts):
        return (phone or "").strip() or None
    return None


def _ensure_open(event: Event, now: datetime) -> None:
    if not is_live(event, now):
        raise VolunteeringClosed()


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
    now: datetime | None = None,
) -> SignupResult:
    """Sign a person up for shifts, or (for a known address) only email a fresh link.

    The choice is checked the same way for a known address as for a new one, so
    the answer never tells whether the address had signed up. Raises
    VolunteeringClosed or ShiftProblem.
    """
    now = now or utcnow()
    event = lock_event(event)
    _ensure_open(event, now)
    shifts = _check_shifts(event, shift_ids, now)
    _check_phone(shifts, phone)
    key = email_lookup(email)
    existing = db.session.scalar(
        select(VolunteerSignup).where(
            VolunteerSignup.event_id == event.id,
            VolunteerSignup.email_key.in_(email_lookups(email)),
        )
    )
    if existing is not None:
        since = now - REPEAT_LINK_INTERVAL
        if not outbox.has_recent_for_signup(existing.id, volunteer_emails.LINK_KINDS, since):
            volunteer_emails.queue_manage_link(existing)
        log.info("volunteer repeated signup=%s event=%s", existing.id, event.id)
        return SignupResult(existing, was_new=False)
    signup = VolunteerSignup(
        event=event,
        email=email.strip(),
        email_key=key,
        name=(name or "").strip() or None,
        phone=_needed_phone(shifts, phone),
        languages=(languages or "").strip() or None,
        notes=(notes or "").strip() or None,
        created_at=now,
        updated_at=now,
    )
    signup.assignments = [ShiftAssignment(shift=s, created_at=now) for s in shifts]
    db.session.add(signup)
    db.session.flush()
    volunteer_emails.queue_confirmation(signup)
    log.info("volunteer signed up signup=%s event=%s shifts=%d", signup.id, event.id, len(shifts))
    return SignupResult(signup, was_new=True)


def lock_signup(signup: VolunteerSignup) -> Event:
    """Lock the event, then re-read the sign-up; raises SignupGone if it was withdrawn."""
    event = lock_event(signup.event)
    current = db.session.scalar(
        select(VolunteerSignup)
        .where(VolunteerSignup.id == signup.id)
        .execution_options(populate_existing=True)
    )
    if current is None:
        raise SignupGone()
    return event


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
    event = lock_signup(signup)
    _ensure_open(event, now)
    shifts = _check_shifts(event, shift_ids, now, keep=current_shifts(signup))
    phone = (phone or "").strip() or signup.phone
    _check_phone(shifts, phone)
    signup.assignments.extend(ShiftAssignment(shift=s, created_at=now) for s in shifts)
    signup.phone = _needed_phone(current_shifts(signup), phone)
    signup.updated_at = now
    db.session.flush()
    volunteer_emails.queue_changed(signup)
    return shifts


def drop_shift(signup: VolunteerSignup, shift_id: int, now: datetime | None = None) -> None:
    """Give up one shift; the place is free for someone else at once."""
    now = now or utcnow()
    event = lock_signup(signup)
    _ensure_open(event, now)
    assignment = next((a for a in signup.assignments if a.shift_id == shift_id), None)
    if assignment is None:
        raise ShiftProblem(_("That shift is not one of yours."))
    if len(signup.assignments) == 1:
        raise ShiftProblem(
            _("This is your only shift. To stop volunteering, withdraw below instead.")
        )
    struck = cancelled_entry(signup, assignment.shift)
    signup.assignments.remove(assignment)
    signup.phone = _needed_phone(current_shifts(signup), signup.phone)
    signup.updated_at = now
    db.session.flush()
    volunteer_emails.queue_changed(signup, struck=(struck,))


def withdraw(signup: VolunteerSignup) -> None:
    """Erase the sign-up, its shifts, links and emails (and their file copies)."""
    lock_signup(signup)
    signup_id = signup.id
    mail_files.remove_after_commit(outbox.forget_signup(signup_id))
    db.session.delete(signup)
    db.session.flush()
    log.info("volunteer withdrew signup=%s", signup_id)


def find_signup(token: str) -> VolunteerSignup | None:
    if not is_token_shaped(token):
        return None
    return db.session.scalar(
        select(VolunteerSignup)
        .join(VolunteerToken)
        .where(VolunteerToken.token_hash == hash_token(token))
    )


def find_by_feed_token(token: str) -> VolunteerSignup | None:
    if not is_token_shaped(token):
        return None
    return db.session.scalar(
        select(VolunteerSignup).where(VolunteerSignup.feed_token_hash == hash_token(token))
    )


def new_feed_token(signup: VolunteerSignup) -> str:
    """A new address for the personal calendar feed; the old one stops working."""
    token, token_hash = new_token()
    signup.feed_token_hash = token_hash
    return token


def issue_manage_token(signup: VolunteerSignup) -> str:
    token, token_hash = new_token()
    db.session.add(VolunteerToken(signup=signup, token_hash=token_hash))
    return token


# ---------------------------------------------------------------- rosters and reminders


@dataclass(frozen=True)
class RosterShift:
    shift: Shift
    people: list[VolunteerSignup]

    @property
    def left(self) -> int:
        return max(self.shift.capacity - len(self.people), 0)


def roster(event: Event) -> list[RosterShift]:
    """Shift by shift, who is on it; shifts with gaps first, then by time."""
    rows = []
    assignments = db.session.scalars(
        select(ShiftAssignment)
        .join(Shift)
        .join(Role)
        .where(Role.event_id == event.id)
        .options(selectinload(ShiftAssignment.signup))
    ).all()
    people: dict[int, list[VolunteerSignup]] = {}
    for a in assignments:
        people.setdefault(a.shift_id, []).append(a.signup)
    for role in event_roles(event):
        for shift in role.shifts:
            on_shift = sorted(people.get(shift.id, []), key=lambda s: (s.name or "", s.id))
            rows.append(RosterShift(shift, on_shift))
    return sorted(rows, key=lambda r: (r.left == 0, r.shift.starts_at, r.shift.role.position))


def without_shift(event: Event) -> list[VolunteerSignup]:
    """Sign-ups whose every shift was removed: they were told, and may pick another."""
    return list(
        db.session.scalars(
            select(VolunteerSignup)
            .where(VolunteerSignup.event_id == event.id, ~VolunteerSignup.assignments.any())
            .order_by(VolunteerSignup.id)
        )
    )


# The roster's spreadsheet columns, in the CLI's and the organisers' exports alike.
ROSTER_COLUMNS = [
    "role",
    "shift starts",
    "shift ends",
    "meeting point",
    "capacity",
    "filled",
    "name",
    "languages",
    "phone",
    "notes",
]


def roster_rows(rows: list[RosterShift]):
    """Spreadsheet rows of a roster: one per person per shift, empty shifts included."""
    for row in rows:
        shift = row.shift
        zone = shift.role.event.zone
        base = [
            shift.role.name,
            shift.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            shift.ends_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            shift.meeting_point,
            shift.capacity,
            len(row.people),
        ]
        if not row.people:
            yield [*base, "", "", "", ""]
        for person in row.people:
            yield [
                *base,
                person.name or "",
                person.languages or "",
                person.phone or "",
                person.notes or "",
            ]


def send_shift_reminders(now: datetime | None = None, within=timedelta(hours=24)) -> int:
    """One reminder per person per shift starting within `within`; never twice."""
    now = now or utcnow()
    assignments = db.session.scalars(
        select(ShiftAssignment)
        .join(Shift)
        .join(Role)
        .join(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Shift.starts_at > now,
            Shift.starts_at <= now + within,
        )
    ).all()
    count = sum(volunteer_emails.queue_shift_reminder(a.signup, a.shift) for a in assignments)
    log.info("shift reminders queued=%d", count)
    return count


# ---------------------------------------------------------------- organisers' changes


def add_role(event: Event, **fields) -> Role:
    position = len(event_roles(event))
    role = Role(event=event, position=position, **fields)
    db.session.add(role)
    db.session.flush()
    return role


def update_role(role: Role, **fields) -> None:
    for key, value in fields.items():
        setattr(role, key, value)
    db.session.flush()


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ShiftProblem(_("A shift must end after it starts."), field="ends")


def add_shift(role: Role, *, starts_at, ends_at, capacity, meeting_point="", note=None) -> Shift:
    _check_times(starts_at, ends_at)
    shift = Shift(
        role=role,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        meeting_point=meeting_point,
        note=note,
    )
    db.session.add(shift)
    db.session.flush()
    return shift


def update_shift(shift: Shift, *, starts_at, ends_at, capacity, meeting_point="", note=None) -> int:
    """Change a shift; people on it are emailed when its time or meeting point moves.

    Capacity cannot go below the people already on it. Returns how many were told.
    """
    lock_event(shift.role.event)
    _check_times(starts_at, ends_at)
    people = people_on(shift)
    if capacity < len(people):
        raise ShiftProblem(
            _(
                "%(count)d people are on this shift: the capacity cannot be lower.",
                count=len(people),
            ),
            field="capacity",
        )
    moved = (starts_at, ends_at, meeting_point) != (
        shift.starts_at,
        shift.ends_at,
        shift.meeting_point,
    )
    shift.starts_at, shift.ends_at = starts_at, ends_at
    shift.capacity, shift.meeting_point, shift.note = capacity, meeting_point, note
    if moved:
        shift.sequence += 1
    db.session.flush()
    if not moved:
        return 0
    for signup in people:
        signup.updated_at = utcnow()
        db.session.flush()
        volunteer_emails.queue_changed(signup)
    return len(people)


def people_on(shift: Shift) -> list[VolunteerSignup]:
    return [
        a.signup
        for a in db.session.scalars(
            select(ShiftAssignment).where(ShiftAssignment.shift_id == shift.id)
        )
    ]


class NeedsConfirmation(VigilError):
    message = _l("People are on this shift now: confirm that they should be emailed.")
    status_code = 422


def remove_shift(shift: Shift, confirmed: bool = True) -> int:
    """Delete a shift; everyone on it is emailed that it was cancelled. Returns how many.

    Without `confirmed`, refuses (NeedsConfirmation) if anyone is on it: counted under
    the lock, so a sign-up that arrived after the organiser looked is not missed.
    """
    lock_event(shift.role.event)
    people = people_on(shift)
    if people and not confirmed:
        raise NeedsConfirmation()
    for signup in people:
        volunteer_emails.queue_shift_cancelled(signup, shift)
    db.session.delete(shift)
    db.session.flush()
    for signup in people:
        db.session.refresh(signup)
        signup.phone = _needed_phone(current_shifts(signup), signup.phone)
    log.info("shift removed shift=%s notified=%d", shift.id, len(people))
    return len(people)


def remove_role(role: Role, confirmed: bool = True) -> int:
    """Delete a role and its shifts, telling everyone on them. Returns how many were told."""
    lock_event(role.event)
    if not confirmed and any(people_on(shift) for shift in role.shifts):
        raise NeedsConfirmation()
    told = sum(remove_shift(shift) for shift in list(role.shifts))
    db.session.expire(role, ["shifts"])  # already deleted, one by one, above
    db.session.delete(role)
    db.session.flush()
    return told


def open_places(event_ids: list[int], now: datetime | None = None) -> dict[int, int]:
    """Volunteer places still to fill on upcoming shifts, per event, in one query."""
    if not event_ids:
        return {}
    now = now or utcnow()
    filled = (
        select(ShiftAssignment.shift_id, func.count().label("n"))
        .group_by(ShiftAssignment.shift_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Role.event_id, func.sum(Shift.capacity - func.coalesce(filled.c.n, 0)))
        .join(Shift, Shift.role_id == Role.id)
        .outerjoin(filled, filled.c.shift_id == Shift.id)
        .where(Role.event_id.in_(event_ids), Shift.starts_at > now)
        .group_by(Role.event_id)
    ).all()
    return {event_id: int(gap or 0) for event_id, gap in rows}
