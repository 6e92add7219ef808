"""Dates and times for people: in the event's own time zone, formatted by Babel."""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from flask import current_app
from flask_babel import get_locale

DATE_PATTERN = "EEEE d MMMM y"
TIME_PATTERN = "HH:mm"


def _locale() -> Locale:
    try:
        locale = get_locale()
    except RuntimeError:  # outside a request: e-mail rendering from the command line
        locale = None
    return locale or Locale.parse(current_app.config.get("BABEL_DEFAULT_LOCALE", "en_GB"))


def _fmt(moment: datetime, pattern: str, zone: ZoneInfo) -> str:
    return format_datetime(moment, pattern, tzinfo=zone, locale=_locale())


def format_span(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """E.g. "Sunday 10 December 2017, 11:00–13:00 GMT", in the place's own zone."""
    zone = ZoneInfo(timezone)
    start_local, end_local = starts_at.astimezone(zone), ends_at.astimezone(zone)
    start_zone, end_zone = _fmt(starts_at, "z", zone), _fmt(ends_at, "z", zone)
    day = _fmt(starts_at, DATE_PATTERN, zone)
    start_time, end_time = _fmt(starts_at, TIME_PATTERN, zone), _fmt(ends_at, TIME_PATTERN, zone)
    if start_local.date() == end_local.date():
        if start_zone == end_zone:
            return f"{day}, {start_time}–{end_time} {end_zone}"
        return f"{day}, {start_time} {start_zone} – {end_time} {end_zone}"
    end_day = _fmt(ends_at, DATE_PATTERN, zone)
    return f"{day}, {start_time} {start_zone} – {end_day}, {end_time} {end_zone}"


def format_moment(moment: datetime, timezone: str) -> str:
    """One instant with its date, e.g. "Friday 1 December 2017, 09:00 GMT"."""
    zone = ZoneInfo(timezone)
    return _fmt(moment, f"{DATE_PATTERN}, {TIME_PATTERN} z", zone)


def format_short_date(moment: datetime, timezone: str) -> str:
    return _fmt(moment, "EEE d MMM y", ZoneInfo(timezone))


def format_time(moment: datetime, timezone: str) -> str:
    """The clock time alone, e.g. "14:02": a check-in on the day needs no date."""
    return _fmt(moment, TIME_PATTERN, ZoneInfo(timezone))


def format_hours(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """The span's times without its first day, e.g. "11:00–13:00 GMT", for beside a
    date block; an end on another day keeps its date."""
    span = format_span(starts_at, ends_at, timezone)
    day = _fmt(starts_at, DATE_PATTERN, ZoneInfo(timezone))
    return span.removeprefix(f"{day}, ")


def date_block(moment: datetime, timezone: str) -> dict[str, str]:
    """The parts of a calendar-leaf date: weekday, day, month and year, in the place's zone."""
    zone = ZoneInfo(timezone)
    return {part: _fmt(moment, pattern, zone) for part, pattern in DATE_BLOCK.items()}


DATE_BLOCK = {"weekday": "EEE", "day": "d", "month": "MMM", "year": "y"}
