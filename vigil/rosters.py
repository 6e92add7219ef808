"""Volunteer rosters for organisers: who is on each shift, who is left without one,
and how many places are still to fill. Read-only; every view of one is audited by
the page that shows it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import Event, Role, Shift, ShiftAssignment, SignupStatus, VolunteerSignup, utcnow
from .volunteers import event_roles


@dataclass(frozen=True)
class RosterShift:
    shift: Shift
    people: list[VolunteerSignup]

    @property
    def left(self) -> int:
        return max(self.shift.capacity - len(self.people), 0)


def roster(event: Event) -> list[RosterShift]:
    """Shift by shift, who is on it (confirmed sign-ups: a pending one holds nothing);
    shifts with gaps first, then by time."""
    rows = []
    assignments = db.session.scalars(
        select(ShiftAssignment)
        .join(Shift)
        .join(Role)
        .join(VolunteerSignup, VolunteerSignup.id == ShiftAssignment.signup_id)
        .where(Role.event_id == event.id, VolunteerSignup.status == SignupStatus.ACTIVE)
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
            .where(
                VolunteerSignup.event_id == event.id,
                VolunteerSignup.status == SignupStatus.ACTIVE,
                ~VolunteerSignup.assignments.any(),
            )
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


def open_places(event_ids: list[int], now: datetime | None = None) -> dict[int, int]:
    """Volunteer places still to fill on upcoming shifts, per event, in one query."""
    if not event_ids:
        return {}
    now = now or utcnow()
    filled = (
        select(ShiftAssignment.shift_id, func.count().label("n"))
        .join(VolunteerSignup, VolunteerSignup.id == ShiftAssignment.signup_id)
        .where(VolunteerSignup.status == SignupStatus.ACTIVE)
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
