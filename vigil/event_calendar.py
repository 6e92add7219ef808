"""The calendar view of an Event, for downloads, feeds and email attachments alike."""

from dataclasses import replace
from datetime import timedelta

from flask_babel import gettext as _

from .calendar import (
    CalendarEntry,
    build_calendar,
    event_entry,
    event_uid,
    shift_entry,
    shift_uid,
)
from .event_text import text_of
from .links import calendar_host, external_url
from .models import Event, EventStatus


def entry_for(event: Event) -> CalendarEntry:
    return event_entry(
        uid=event_uid(event.uuid, calendar_host()),
        title=text_of(event, "title"),
        summary_text=text_of(event, "summary"),
        transport=text_of(event, "transport"),
        venue=text_of(event, "venue"),
        address=event.full_address,
        url=external_url("events.show", slug=event.slug),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=event.timezone,
        sequence=event.sequence,
        updated_at=event.updated_at,
        cancelled=event.status == EventStatus.CANCELLED,
        latitude=event.latitude,
        longitude=event.longitude,
        cancelled_prefix=_("CANCELLED: "),
    )


FEED_REFRESH = timedelta(hours=1)


# The reminders a download may carry (minutes before the start): a person chooses.
ALARM_CHOICES = (60, 1440)


def event_file(event: Event, alarm_minutes: int | None = None) -> bytes:
    """The download: one event, no METHOD (a plain import, not an invitation), with a
    reminder (VALARM) when the person asked for one."""
    return build_calendar([replace(entry_for(event), alarm_minutes=alarm_minutes)])


def feed_file(events: list[Event], name: str) -> bytes:
    return build_calendar(
        [entry_for(e) for e in events],
        name=name,
        description=_("Demonstrations and vigils published by %(org)s.", org=name),
        refresh=FEED_REFRESH,
    )


def shift_entries(signup) -> list[CalendarEntry]:
    """A volunteer's own shifts, one VEVENT each, and nothing about anyone else."""
    event = signup.event
    url = external_url("events.show", slug=event.slug)
    entries = []
    for assignment in sorted(signup.assignments, key=lambda a: a.shift.starts_at):
        shift = assignment.shift
        entries.append(
            shift_entry(
                uid=shift_uid(shift.uuid, calendar_host()),
                role=shift.role.name,
                event_title=text_of(event, "title"),
                meeting_point=shift.meeting_point,
                what_to_bring=shift.role.what_to_bring,
                meet_label=_("Meet at:"),
                bring_label=_("Bring:"),
                address=event.full_address,
                url=url,
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                timezone=event.timezone,
                sequence=shift.sequence + event.sequence + (signup.calendar_changes or 0),
                updated_at=max(shift.updated_at, event.updated_at, signup.updated_at),
                cancelled=event.status == EventStatus.CANCELLED,
                cancelled_prefix=_("CANCELLED: "),
            )
        )
    return entries


def shifts_file(signup) -> bytes:
    return build_calendar(
        shift_entries(signup),
        name=_("My shifts: %(title)s", title=text_of(signup.event, "title")),
        refresh=FEED_REFRESH,
    )


def cancelled_entry(signup, shift) -> CalendarEntry:
    """One of the person's shifts, marked cancelled with a higher SEQUENCE, so calendars
    that took it from an earlier email strike it out. Call before the shift goes."""
    (entry,) = [e for e in shift_entries(signup) if e.uid == shift_uid(shift.uuid, calendar_host())]
    return replace(
        entry, cancelled=True, sequence=entry.sequence + 1, summary=_("CANCELLED: ") + entry.summary
    )


def _method(entries: list) -> str | None:
    """RFC 5546 allows one UID in a file that carries a METHOD: more, and it is a plain
    calendar file, which calendar apps import the same way."""
    return "PUBLISH" if len({e.uid for e in entries}) == 1 else None


def cancelled_shift_attachment(signup, shift) -> tuple[bytes, str]:
    entries = [cancelled_entry(signup, shift)]
    return build_calendar(entries, method=_method(entries)), "shift-cancelled.ics"


def shifts_attachment(signup, struck: tuple = ()) -> tuple[bytes, str]:
    """The person's shifts, plus any they no longer have (`struck`, already cancelled)."""
    entries = [*shift_entries(signup), *struck]
    return build_calendar(entries, method=_method(entries)), "shifts.ics"


# Built files by everything in them: a worker sending a thousand confirmations
# builds the file once, and a changed event can never get an old file.
_ATTACHMENTS: dict[tuple, tuple[bytes, str]] = {}
_ATTACHMENTS_KEPT = 64


def attachment_for(event: Event) -> tuple[bytes, str]:
    """The event's .ics for an email: METHOD:PUBLISH, no organiser, no attendees."""
    entry = entry_for(event)
    key = (entry, event.slug)
    found = _ATTACHMENTS.get(key)
    if found is None:
        found = build_calendar([entry], method="PUBLISH"), f"{event.slug}.ics"
        if len(_ATTACHMENTS) >= _ATTACHMENTS_KEPT:
            _ATTACHMENTS.pop(next(iter(_ATTACHMENTS)))  # the oldest
        _ATTACHMENTS[key] = found
    return found
