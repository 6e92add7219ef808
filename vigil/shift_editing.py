"""Organisers changing an event's roles and shifts, and volunteers told of it: a shift
moved or removed, or the whole event moved, cancelled or back on.

Every change locks the event first, as sign-ups do, so a count of people on a shift
is exact when the organiser acts on it. Functions add and flush; the caller commits.
"""

import logging
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import emails
from .errors import VigilError
from .event_rules import shift_problems
from .events import lock_event
from .extensions import db
from .models import Event, Role, Shift, ShiftAssignment, SignupStatus, VolunteerSignup, utcnow
from .volunteers import ShiftProblem, current_shifts, event_roles, needed_phone

log = logging.getLogger(__name__)


def notify_volunteers(event: Event, what: str, before: dict | None = None) -> int:
    """Tell every confirmed volunteer that the event was cancelled, moved or reinstated
    (`what`), with their shifts as a calendar file. Returns how many were told."""
    signups = db.session.scalars(
        select(VolunteerSignup)
        .where(VolunteerSignup.event_id == event.id, VolunteerSignup.status == SignupStatus.ACTIVE)
        .order_by(VolunteerSignup.id)
    ).all()
    told = sum(emails.queue_volunteer_event_news(s, what, before) for s in signups)
    log.info("volunteers told event=%s what=%s count=%d", event.id, what, told)
    return told


def move_shifts(event: Event, by: timedelta) -> int:
    """Move every shift of the event by `by`, with the event; returns how many moved."""
    shifts = [shift for role in event_roles(event) for shift in role.shifts]
    for shift in shifts:
        shift.starts_at, shift.ends_at = shift.starts_at + by, shift.ends_at + by
        shift.sequence += 1
    db.session.flush()
    return len(shifts)


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
    problems = shift_problems(starts_at, ends_at)
    if problems:
        raise ShiftProblem(problems[0].message, field=problems[0].field)


def add_shift(role: Role, **fields) -> Shift:
    """`fields`: starts_at, ends_at, capacity, and optionally meeting_point and note."""
    _check_times(fields["starts_at"], fields["ends_at"])
    shift = Shift(role=role, **fields)
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
        emails.queue_volunteer_changed(signup)
    return len(people)


def people_on(shift: Shift) -> list[VolunteerSignup]:
    """Confirmed people on the shift; pending sign-ups only asked for it."""
    return list(
        db.session.scalars(
            select(VolunteerSignup)
            .join(ShiftAssignment, ShiftAssignment.signup_id == VolunteerSignup.id)
            .where(
                ShiftAssignment.shift_id == shift.id,
                VolunteerSignup.status == SignupStatus.ACTIVE,
            )
            .order_by(VolunteerSignup.id)
        )
    )


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
        emails.queue_shift_cancelled(signup, shift)
    db.session.delete(shift)
    db.session.flush()
    for signup in people:
        db.session.refresh(signup)
        signup.phone = needed_phone(current_shifts(signup), signup.phone)
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
