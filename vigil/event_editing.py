"""Organisers creating, changing, publishing, cancelling and copying events.

Values come in as an organiser typed them: times are wall-clock times at the
place, in the event's time zone. The rules are event_rules'; the one needing the
database (one event per slug) is checked here, so a refusal names the field
instead of failing at commit.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .attendees import ACTIVE
from .errors import VigilError
from .event_changes import update_event
from .event_rules import LOCAL_TIMES, EventRulesBroken, Problem, check_event
from .events import TIME_AND_PLACE_FIELDS
from .extensions import db
from .local_time import next_anniversary, to_local
from .models import (
    Event,
    EventStatus,
    Organiser,
    OrganiserRole,
    Role,
    Rsvp,
    Shift,
    SignupStatus,
    VolunteerSignup,
    utcnow,
)
from .organisers import add_member

# Fields an organiser edits on the event form; status has actions of its own.
EDITABLE = (
    "title",
    "slug",
    "summary",
    "description",
    "demands",
    "venue",
    "street_address",
    "locality",
    "postcode",
    "transport",
    "latitude",
    "longitude",
    "timezone",
    "starts_at",
    "ends_at",
    "capacity",
    "rsvp_opens_at",
    "rsvp_closes_at",
    "retention_days",
    "confirm_by_email",
    "discreet_subjects",
    "translations",
)


class StatusProblem(VigilError):
    status_code = 409


def columns_from_local(values: dict, event: Event | None = None) -> dict:
    """Turn typed values (local times at the place) into column values.

    Raises EventRulesBroken for every rule the values break (see event_rules), and for
    a slug another event uses.
    """
    try:
        columns = check_event(values)
    except EventRulesBroken as broken:
        problems = broken.problems
    else:
        problems = []
    slug = values["slug"]
    if not any(p.field == "slug" for p in problems) and _slug_taken(slug, event):
        problems.append(
            Problem(
                "slug",
                _l("Another event uses that web address already."),
                "'slug' is used by another event",
            )
        )
    if problems:
        raise EventRulesBroken(problems)
    return columns


def _slug_taken(slug: str, event: Event | None) -> bool:
    taken = select(Event.id).where(Event.slug == slug)
    if event is not None and event.id is not None:
        taken = taken.where(Event.id != event.id)
    return db.session.scalar(taken) is not None


def local_values(event: Event) -> dict:
    """The event's values as the form shows them: times at the place, without zone."""
    zone = event.zone
    values = {k: getattr(event, k) for k in EDITABLE if k not in LOCAL_TIMES.values()}
    for name, column in LOCAL_TIMES.items():
        values[name] = to_local(getattr(event, column), zone)
    return values


def people_to_tell(event: Event) -> int:
    """Confirmed and waitlisted RSVPs and confirmed volunteers: who hears of a move or
    a cancellation."""
    attendees = db.session.scalar(
        select(func.count()).where(Rsvp.event_id == event.id, Rsvp.status.in_(ACTIVE))
    )
    volunteers = db.session.scalar(
        select(func.count()).where(
            VolunteerSignup.event_id == event.id, VolunteerSignup.status == SignupStatus.ACTIVE
        )
    )
    return attendees + volunteers


def emails_if_saved(event: Event, columns: dict) -> int:
    """How many people saving `columns` would email: nobody unless a published
    event still to come moves in time or place."""
    moves = any(getattr(event, k) != columns[k] for k in TIME_AND_PLACE_FIELDS if k in columns)
    ends_at = columns.get("ends_at", event.ends_at)
    if not moves or event.status != EventStatus.PUBLISHED or ends_at <= utcnow():
        return 0
    return people_to_tell(event)


def create_event(columns: dict, creator: Organiser) -> Event:
    """A new draft; an organiser who creates it becomes its member so they can run it."""
    event = Event(status=EventStatus.DRAFT, **columns)
    db.session.add(event)
    db.session.flush()
    if creator.role != OrganiserRole.ADMIN:
        add_member(creator, event)
    return event


def save_event(event: Event, columns: dict, move_shifts: bool = True) -> int:
    """Store the changes, the shifts moving with the start unless `move_shifts` is off;
    returns how many attendees were emailed about a move."""
    return update_event(event, columns, move_shifts=move_shifts).notified


def duplicate_values(source: Event, today: date) -> dict:
    """Form values for next year's copy: the next anniversary after both today and the
    original, with the year in slug and title following the new date."""
    zone = source.zone
    after = max(today, source.starts_at.astimezone(zone).date() + timedelta(days=1))
    columns = {k: getattr(source, k) for k in EDITABLE}
    moved = next_anniversary({**columns, "roles": []}, after)
    moved.pop("roles")
    copy = Event(**moved)
    values = local_values(copy)
    while db.session.scalar(select(Event.id).where(Event.slug == values["slug"])) is not None:
        values["slug"] = _next_slug(values["slug"])
    return values


def _next_slug(slug: str) -> str:
    stem, _sep, number = slug.rpartition("-copy-")
    if stem and number.isdigit():
        return f"{stem}-copy-{int(number) + 1}"
    return f"{slug}-copy-2"


def duplicate_event(source: Event, columns: dict, creator: Organiser) -> Event:
    """A draft copy with the source's volunteer roles and shifts, moved by as much as
    the start moved; no RSVP or volunteer comes along."""
    event = create_event(columns, creator)
    moved_by = event.starts_at - source.starts_at
    roles = db.session.scalars(
        select(Role).where(Role.event_id == source.id).order_by(Role.position, Role.id)
    )
    for role in roles:
        copy = Role(
            event=event,
            name=role.name,
            duty=role.duty,
            what_to_bring=role.what_to_bring,
            needs_phone=role.needs_phone,
            briefing=role.briefing,
            position=role.position,
        )
        copy.shifts = [
            Shift(
                starts_at=s.starts_at + moved_by,
                ends_at=s.ends_at + moved_by,
                capacity=s.capacity,
                meeting_point=s.meeting_point,
                note=s.note,
            )
            for s in role.shifts
        ]
        db.session.add(copy)
    db.session.flush()
    return event


# ---------------------------------------------------------------- status


@dataclass(frozen=True)
class StatusChange:
    action: str  # publish, unpublish, cancel, reinstate
    notified: int


def publish(event: Event) -> StatusChange:
    """A draft goes public; a cancelled event is reinstated and its people are told."""
    if event.status == EventStatus.PUBLISHED:
        raise StatusProblem(_l("This event is published already."))
    action = "reinstate" if event.status == EventStatus.CANCELLED else "publish"
    update = update_event(event, {"status": EventStatus.PUBLISHED})
    return StatusChange(action, update.notified)


def unpublish(event: Event) -> StatusChange:
    """Back to a draft, hidden from the public. Refused once people have RSVPed: they
    would lose the event without a word, so cancelling (which tells them) is the way."""
    if event.status != EventStatus.PUBLISHED:
        raise StatusProblem(_l("Only a published event can be unpublished."))
    if people_to_tell(event):
        raise StatusProblem(
            _l("People have RSVPed to this event. Cancel it instead, so they are told.")
        )
    update_event(event, {"status": EventStatus.DRAFT})
    return StatusChange("unpublish", 0)


def cancel(event: Event) -> StatusChange:
    """Everyone with an RSVP is emailed (if the event is still to come). A draft has
    nobody to tell and simply stays a draft."""
    if event.status != EventStatus.PUBLISHED:
        raise StatusProblem(_l("Only a published event can be cancelled."))
    update = update_event(event, {"status": EventStatus.CANCELLED})
    return StatusChange("cancel", update.notified)
