"""The calendar view of an Event, for downloads, feeds and email attachments alike."""

from datetime import timedelta

from flask_babel import gettext as _

from .calendar import CalendarEntry, build_calendar, event_entry, event_uid
from .links import calendar_host, external_url
from .models import Event, EventStatus


def entry_for(event: Event) -> CalendarEntry:
    return event_entry(
        uid=event_uid(event.uuid, calendar_host()),
        title=event.title,
        summary_text=event.summary,
        transport=event.transport,
        venue=event.venue,
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


def event_file(event: Event) -> bytes:
    """The download: one event, no METHOD (a plain import, not an invitation)."""
    return build_calendar([entry_for(event)])


def feed_file(events: list[Event], name: str) -> bytes:
    return build_calendar(
        [entry_for(e) for e in events],
        name=name,
        description=_("Demonstrations and vigils published by %(org)s.", org=name),
        refresh=FEED_REFRESH,
    )


def attachment_for(event: Event) -> tuple[bytes, str]:
    """The event's .ics for an email: METHOD:PUBLISH, no organiser, no attendees."""
    return build_calendar([entry_for(event)], method="PUBLISH"), f"{event.slug}.ics"
