"""Dates and times for people: in the event's own time zone, formatted by Babel."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from flask import current_app
from flask_babel import get_locale

DATE_PATTERN = "EEEE d MMMM y"
TIME_PATTERN = "HH:mm"


@dataclass(frozen=True)
class _Style:
    """How one language writes a day, a span and a zone (Babel knows the words):
    Babel patterns, and str.format templates over their results."""

    day: str
    short: str
    zone: str
    span: str
    span_zones: str
    span_days: str
    moment: str


ENGLISH = _Style(
    day=DATE_PATTERN,
    short="EEE d MMM y",
    zone="z",
    span="{day}, {start}–{end} {zone}",
    span_zones="{day}, {start} {zone} – {end} {end_zone}",
    span_days="{day}, {start} {zone} – {end_day}, {end} {end_zone}",
    moment="{day}, {time} {zone}",
)
# 2017年12月10日星期日 11:00–13:00（英国时间）: Babel has no short zone names in
# Chinese ("+0000"), but its generic ones read naturally.
CHINESE = _Style(
    day="y年M月d日EEEE",
    short="y年M月d日 EEE",
    zone="v",
    span="{day} {start}–{end}（{zone}）",
    span_zones="{day} {start}（{zone}）– {end}（{end_zone}）",
    span_days="{day} {start} – {end_day} {end}（{end_zone}）",
    moment="{day} {time}（{zone}）",
)


def _style() -> _Style:
    return CHINESE if _locale().language == "zh" else ENGLISH


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
    style, zone = _style(), ZoneInfo(timezone)
    start_local, end_local = starts_at.astimezone(zone), ends_at.astimezone(zone)
    start_zone, end_zone = _fmt(starts_at, "z", zone), _fmt(ends_at, "z", zone)
    parts = {
        "day": _fmt(starts_at, style.day, zone),
        "start": _fmt(starts_at, TIME_PATTERN, zone),
        "end": _fmt(ends_at, TIME_PATTERN, zone),
        "zone": _fmt(starts_at, style.zone, zone),
        "end_zone": _fmt(ends_at, style.zone, zone),
    }
    if start_local.date() == end_local.date():
        if start_zone == end_zone:
            return style.span.format(**parts)
        return style.span_zones.format(**parts)  # the clocks change meanwhile
    parts["end_day"] = _fmt(ends_at, style.day, zone)
    return style.span_days.format(**parts)


def format_moment(moment: datetime, timezone: str) -> str:
    """One instant with its date, e.g. "Friday 1 December 2017, 09:00 GMT"."""
    style, zone = _style(), ZoneInfo(timezone)
    return style.moment.format(
        day=_fmt(moment, style.day, zone),
        time=_fmt(moment, TIME_PATTERN, zone),
        zone=_fmt(moment, style.zone, zone),
    )


def format_short_date(moment: datetime, timezone: str) -> str:
    return _fmt(moment, _style().short, ZoneInfo(timezone))


def format_time(moment: datetime, timezone: str) -> str:
    """The clock time alone, e.g. "14:02": a check-in on the day needs no date."""
    return _fmt(moment, TIME_PATTERN, ZoneInfo(timezone))


def format_hours(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """The span's times without its first day, e.g. "11:00–13:00 GMT", for beside a
    date block; an end on another day keeps its date."""
    span = format_span(starts_at, ends_at, timezone)
    day = _fmt(starts_at, _style().day, ZoneInfo(timezone))
    return span.removeprefix(f"{day}, ").removeprefix(f"{day} ")


def date_block(moment: datetime, timezone: str) -> dict[str, str]:
    """The parts of a calendar-leaf date: weekday, day, month and year, in the place's zone."""
    zone = ZoneInfo(timezone)
    return {part: _fmt(moment, pattern, zone) for part, pattern in DATE_BLOCK.items()}


DATE_BLOCK = {"weekday": "EEE", "day": "d", "month": "MMM", "year": "y"}
