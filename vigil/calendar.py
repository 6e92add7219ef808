"""iCalendar files: pure functions from plain data to bytes, with no Flask and no database.

Every file Vigil serves or attaches is built here, so UIDs, times and escaping are
the same in downloads, feeds and emails. Same data in, same bytes out: DTSTAMP is
the entry's last change, never the time of the request, and each VTIMEZONE is
icalendar's, the same for a zone in every file.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Timezone, vDuration, vGeo
from icalendar import Event as VEvent

PRODID = "-//Vigil//Vigil events//EN"


@dataclass(frozen=True)
class CalendarEntry:
    """One VEVENT. `starts_at`/`ends_at` are aware datetimes; `timezone` an IANA key."""

    uid: str
    summary: str
    description: str
    location: str
    url: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    sequence: int
    last_modified: datetime
    cancelled: bool = False
    geo: tuple[float, float] | None = None
    # A VALARM this many minutes before the start, for a download that asked for one.
    alarm_minutes: int | None = None


# Line and paragraph separators some parsers take for line ends, which the
# library does not escape; and the control characters RFC 5545 forbids in TEXT.
_LINE_BREAKS = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\x85": "\n", "\r": "\n"})
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(value: str) -> str:
    """Text as every calendar reads it the same: breaks as escaped newlines (\\n),
    no other control characters."""
    return _CONTROLS.sub("", (value or "").replace("\r\n", "\n").translate(_LINE_BREAKS))


def event_uid(event_uuid: str, host: str) -> str:
    return f"event-{event_uuid}@{host}"


class FixedGeo(vGeo):
    """GEO in plain decimals: the library would write -1e-05 for a point near Greenwich,
    which RFC 5545's FLOAT does not allow."""

    def to_ical(self) -> str:
        return f"{self.latitude:.6f};{self.longitude:.6f}"


def _vevent(entry: CalendarEntry) -> VEvent:
    zone = ZoneInfo(entry.timezone)
    vevent = VEvent()
    vevent.add("uid", entry.uid)
    vevent.add("dtstamp", entry.last_modified)
    vevent.add("last-modified", entry.last_modified)
    vevent.add("dtstart", entry.starts_at.astimezone(zone))
    vevent.add("dtend", entry.ends_at.astimezone(zone))
    vevent.add("summary", plain_text(entry.summary))
    vevent.add("description", plain_text(entry.description))
    vevent.add("location", plain_text(entry.location))
    vevent.add("url", entry.url)
    if entry.geo is not None:
        vevent["GEO"] = FixedGeo(entry.geo)
    vevent.add("sequence", entry.sequence)
    vevent.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    if entry.alarm_minutes and not entry.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", plain_text(entry.summary))
        alarm.add("trigger", timedelta(minutes=-entry.alarm_minutes))
        vevent.add_component(alarm)
    return vevent


@lru_cache(maxsize=8192)
def _vevent_bytes(entry: CalendarEntry) -> bytes:
    """Serialised once per version of an entry: a feed of a thousand events mostly
    reuses what it built before, and the bytes are the library's all the same."""
    return _vevent(entry).to_ical()


class _Vtimezone(Timezone):
    """icalendar's VTIMEZONE builder, searching for changes in steps of at most 16
    days: its first step of 64 days can leap over a change and its reversal together,
    which left Morocco's month at +00 for Ramadan out of the file."""

    _from_tzinfo_skip_search = [
        step for step in Timezone._from_tzinfo_skip_search if step <= timedelta(days=16)
    ]


class _ZoneUntil(tzinfo):
    """A zoneinfo zone that ends at `until` with an OverflowError, where icalendar's
    search stops. Without an end, the search walks on from a zone's last change to the
    year 9999: about 0.1 s for each zone that no longer changes (UTC, Shanghai,
    Kolkata) in every new process. The VTIMEZONE is the same either way: `until`
    lies a year past the span the file covers."""

    def __init__(self, key: str, until: datetime):
        self._zone, self._until = ZoneInfo(key), until

    def _in_zone(self, moment: datetime) -> datetime:
        if moment.replace(tzinfo=None) >= self._until:
            raise OverflowError("past the span of the VTIMEZONE")
        return moment.replace(tzinfo=self._zone)

    def utcoffset(self, moment: datetime) -> timedelta | None:
        return self._in_zone(moment).utcoffset()

    def dst(self, moment: datetime) -> timedelta | None:
        return self._in_zone(moment).dst()

    def tzname(self, moment: datetime) -> str | None:
        return self._in_zone(moment).tzname()


@lru_cache(maxsize=256)
def _vtimezone_bytes(key: str, first: date, last: date) -> bytes:
    """The zone's actual changes from `first` to `last`, read from the tz database
    through zoneinfo, so the bytes depend on the data alone.

    Each RDATE gets a line of its own: vobject keeps only the first date of a
    comma-separated list inside a VTIMEZONE.
    """
    until = datetime(last.year + 1, last.month, last.day)
    tz = _Vtimezone.from_tzinfo(_ZoneUntil(key, until), key, first_date=first, last_date=last)
    for part in tz.subcomponents:
        if "RDATE" in part:
            for moment in part.pop("RDATE").dts:
                part.add("RDATE", moment.dt)
    return tz.to_ical()


def _timezones(entries: list[CalendarEntry]) -> list[bytes]:
    """One VTIMEZONE per zone used, over icalendar's default span (1970 to 2038),
    widened when an entry falls outside it to cover the entries' local years and two
    more (subscribers keep old files). One span for every file means one VTIMEZONE
    per zone in all of them: a reader that keeps the first definition it saw of a
    TZID (vobject does, for the whole process) reads every file right. A file with
    no entries carries UTC's, since a calendar must hold at least one component."""
    if not entries:
        return [
            _vtimezone_bytes("Etc/UTC", Timezone.DEFAULT_FIRST_DATE, Timezone.DEFAULT_LAST_DATE)
        ]
    blocks = []
    for key in sorted({e.timezone for e in entries}):
        zone = ZoneInfo(key)
        spans = [e for e in entries if e.timezone == key]
        first_year = min(e.starts_at for e in spans).astimezone(zone).year
        last_year = max(e.ends_at for e in spans).astimezone(zone).year + 2
        first = min(Timezone.DEFAULT_FIRST_DATE, date(first_year, 1, 1))
        last = max(Timezone.DEFAULT_LAST_DATE, date(last_year + 1, 1, 1))
        blocks.append(_vtimezone_bytes(key, first, last))
    return blocks


def build_calendar(
    entries: Iterable[CalendarEntry],
    *,
    method: str | None = None,
    name: str | None = None,
    description: str | None = None,
    refresh: timedelta | None = None,
) -> bytes:
    """A whole VCALENDAR. `method` is for email attachments; `name` and `refresh` for feeds."""
    entries = list(entries)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
    if description:
        one_line = " ".join(description.split())
        cal.add("description", one_line)
        cal.add("x-wr-caldesc", one_line)
    if refresh:
        cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(refresh))
    head = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    body = _timezones(entries) + [_vevent_bytes(entry) for entry in entries]
    return head[: -len(end)] + b"".join(body) + end


def _entry(
    *,
    summary: str,
    lines: list[str],
    updated_at: datetime,
    cancelled: bool = False,
    cancelled_prefix: str = "CANCELLED: ",
    **fields,
) -> CalendarEntry:
    """What every entry shares: a struck-out title once cancelled, the non-empty
    lines as its description, and its last change as LAST-MODIFIED."""
    return CalendarEntry(
        summary=(cancelled_prefix + summary) if cancelled else summary,
        description="\n\n".join(line for line in lines if line),
        last_modified=updated_at,
        cancelled=cancelled,
        **fields,
    )


def event_entry(
    *,
    title: str,
    summary_text: str,
    transport: str,
    venue: str,
    address: str,
    latitude: float | None,
    longitude: float | None,
    **common,
) -> CalendarEntry:
    """The calendar view of a public event: plain text, the page link, how to get there.

    `common` is what every entry takes: uid, url, starts_at, ends_at, timezone,
    sequence, updated_at, cancelled and cancelled_prefix.
    """
    geo = (latitude, longitude) if latitude is not None and longitude is not None else None
    return _entry(
        summary=title,
        lines=[summary_text, transport, common["url"]],
        location=f"{venue}, {address}",
        geo=geo,
        **common,
    )


def shift_uid(shift_uuid: str, host: str) -> str:
    return f"shift-{shift_uuid}@{host}"


def shift_entry(
    *,
    role: str,
    event_title: str,
    meeting_point: str,
    what_to_bring: str,
    address: str,
    meet_label: str = "Meet at:",
    bring_label: str = "Bring:",
    **common,
) -> CalendarEntry:
    """One volunteer shift in the volunteer's own feed: the duty, where to meet, what to bring.

    It carries nothing about anyone else on the rota. `common` as for event_entry; the
    labels come in the person's language.
    """
    lines = [
        f"{meet_label} {meeting_point}" if meeting_point else "",
        f"{bring_label} {what_to_bring}" if what_to_bring else "",
        common["url"],
    ]
    return _entry(
        summary=f"{role}: {event_title}",
        lines=lines,
        location=f"{meeting_point}, {address}" if meeting_point else address,
        **common,
    )
