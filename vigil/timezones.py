"""Compact VTIMEZONE components built from a zone's current rule (its POSIX TZ string).

A VTIMEZONE with two RRULE-based components stays a few lines long, where one
listing every past transition would run to hundreds of lines. Calendar apps use
it to place local times; the rule is the one in force now.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

_NAME = r"(?:<[^>]+>|[A-Za-z]{3,})"
_OFFSET = r"[+-]?\d{1,3}(?::\d{2}){0,2}"
_RULE = r"M\d{1,2}\.\d\.\d(?:/[+-]?\d{1,3}(?::\d{2}){0,2})?"
_POSIX = re.compile(
    rf"^(?P<std>{_NAME})(?P<stdoff>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?,(?P<start>{_RULE}),(?P<end>{_RULE}))?$"
)
_WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]


@dataclass(frozen=True)
class Transition:
    month: int
    week: int  # 1-4, or 5 for the last
    weekday: int  # 0 = Sunday
    time: timedelta  # local time of day, may exceed 24h or be negative


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _transition(text: str) -> Transition:
    rule, _, time = text.partition("/")
    month, week, weekday = (int(x) for x in rule[1:].split("."))
    return Transition(month, week, weekday, timedelta(seconds=_seconds(time or "2")))


def posix_rule(key: str) -> str | None:
    """The POSIX TZ string at the end of the zone's TZif file, if one can be read."""
    candidates = [Path(root) / key for root in TZPATH]
    try:
        candidates.append(Path(str(resources.files("tzdata.zoneinfo").joinpath(key))))
    except ModuleNotFoundError:
        pass
    for path in candidates:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if data.startswith(b"TZif") and data.endswith(b"\n"):
            return data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii")
    return None


def _first_occurrence(year: int, t: Transition) -> datetime:
    """The local wall-clock moment of the transition in `year`."""
    if t.week == 5:
        last = date(year, t.month % 12 + 1, 1) if t.month < 12 else date(year + 1, 1, 1)
        day = last - timedelta(days=1)
        while (day.weekday() + 1) % 7 != t.weekday:
            day -= timedelta(days=1)
    else:
        day = date(year, t.month, 1)
        while (day.weekday() + 1) % 7 != t.weekday:
            day += timedelta(days=1)
        day += timedelta(weeks=t.week - 1)
    return datetime.combine(day, datetime.min.time()) + t.time


def _rrule(t: Transition) -> dict:
    week = -1 if t.week == 5 else t.week
    return {"FREQ": "YEARLY", "BYMONTH": t.month, "BYDAY": f"{week}{_WEEKDAYS[t.weekday]}"}


def _offset(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


def vtimezone(key: str) -> Timezone | None:
    """A VTIMEZONE for `key`, or None when its rule cannot be expressed this way."""
    rule = posix_rule(key)
    match = _POSIX.match(rule or "")
    if not match:
        return None
    std_name = match["std"].strip("<>")
    # POSIX offsets are west-positive; iCalendar's are east-positive.
    std = -_seconds(match["stdoff"])
    tz = Timezone()
    tz.add("tzid", key)
    if not match["dst"]:
        part = TimezoneStandard()
        part.add("dtstart", datetime(1970, 1, 1))
        part.add("tzname", std_name)
        part.add("tzoffsetfrom", _offset(std))
        part.add("tzoffsetto", _offset(std))
        tz.add_component(part)
        return tz
    dst = -_seconds(match["dstoff"]) if match["dstoff"] else std + 3600
    start, end = _transition(match["start"]), _transition(match["end"])
    daylight = TimezoneDaylight()
    daylight.add("dtstart", _first_occurrence(1970, start))
    daylight.add("tzname", match["dst"].strip("<>"))
    daylight.add("tzoffsetfrom", _offset(std))
    daylight.add("tzoffsetto", _offset(dst))
    daylight.add("rrule", _rrule(start))
    standard = TimezoneStandard()
    standard.add("dtstart", _first_occurrence(1970, end))
    standard.add("tzname", std_name)
    standard.add("tzoffsetfrom", _offset(dst))
    standard.add("tzoffsetto", _offset(std))
    standard.add("rrule", _rrule(end))
    tz.add_component(standard)
    tz.add_component(daylight)
    return tz
