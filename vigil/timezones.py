"""Compact VTIMEZONE components built from a zone's current rule (its POSIX TZ string).

A VTIMEZONE with two RRULE-based components stays a few lines long, where one
listing every past transition would run to hundreds of lines. Calendar apps use
it to place local times; the rule is the one in force now.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo

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


def _fixed_offset_holds(key: str, offset: int, years: range) -> bool:
    """A zone whose rule has no DST must really keep one offset (Casablanca does not)."""
    zone = ZoneInfo(key)
    expected = timedelta(seconds=offset)
    for year in years:
        day = datetime(year, 1, 1, 12)
        while day.year == year:
            if day.replace(tzinfo=UTC).astimezone(zone).utcoffset() != expected:
                return False
            day += timedelta(days=1)
    return True


def _client_moment(year: int, t: Transition, time_of_day: timedelta) -> datetime:
    """Where a calendar app puts the transition: the RRULE's day at DTSTART's time of day."""
    day = _first_occurrence(year, Transition(t.month, t.week, t.weekday, timedelta(0)))
    return day + time_of_day


def _agrees_with_zoneinfo(
    key: str, std: int, dst: int, start: Transition, end: Transition, years: range
) -> bool:
    """Check the two-rule description against the zone's real history for `years`.

    Rules whose transition time falls on another day than the weekday named
    (Jerusalem's "/26", Nuuk's "/-1"), and zones whose file holds changes the rule
    does not (Casablanca's Ramadan), fail here and get a transition list instead.
    """
    zone = ZoneInfo(key)
    day = timedelta(days=1)
    day_start, day_end = start.time % day, end.time % day  # DTSTART's time of day
    one = timedelta(minutes=1)
    for year in years:
        begins = _client_moment(year, start, day_start) - timedelta(seconds=std)
        ends = _client_moment(year, end, day_end) - timedelta(seconds=dst)
        for moment, before, after in ((begins, std, dst), (ends, dst, std)):
            at = moment.replace(tzinfo=UTC)
            if (at - one).astimezone(zone).utcoffset() != timedelta(seconds=before):
                return False
            if (at + one).astimezone(zone).utcoffset() != timedelta(seconds=after):
                return False
        # Daily noon samples: no change the rule does not describe.
        noon = datetime(year, 1, 1, 12)
        while noon.year == year:
            in_dst = begins <= noon < ends if begins < ends else not (ends <= noon < begins)
            expected = timedelta(seconds=dst if in_dst else std)
            if noon.replace(tzinfo=UTC).astimezone(zone).utcoffset() != expected:
                return False
            noon += day
    return True


@lru_cache(maxsize=1024)
def vtimezone(key: str, first_year: int = 1970, last_year: int = 1970) -> Timezone | None:
    """A compact VTIMEZONE for `key`, valid at least for `first_year`..`last_year`,
    or None when the zone's rule cannot be expressed this way there."""
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
        if not _fixed_offset_holds(key, std, range(first_year, last_year + 1)):
            return None
        part = TimezoneStandard()
        part.add("dtstart", datetime(1970, 1, 1))
        part.add("tzname", std_name)
        part.add("tzoffsetfrom", _offset(std))
        part.add("tzoffsetto", _offset(std))
        tz.add_component(part)
        return tz
    dst = -_seconds(match["dstoff"]) if match["dstoff"] else std + 3600
    start, end = _transition(match["start"]), _transition(match["end"])
    if not _agrees_with_zoneinfo(key, std, dst, start, end, range(first_year, last_year + 1)):
        return None
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


def listed_vtimezone(key: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE listing every transition in `first_year`..`last_year`, read from the
    zone's own data: longer, but right for zones no yearly rule describes."""
    zone = ZoneInfo(key)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)

    def offset(moment: datetime) -> timedelta:
        return moment.astimezone(zone).utcoffset()

    def component(moment: datetime, before: timedelta, after: timedelta):
        part = TimezoneDaylight() if moment.astimezone(zone).dst() else TimezoneStandard()
        part.add("dtstart", (moment + before).replace(tzinfo=None))
        part.add("tzname", moment.astimezone(zone).tzname())
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        return part

    tz = Timezone()
    tz.add("tzid", key)
    tz.add_component(component(start, offset(start), offset(start)))
    step = timedelta(hours=6)
    moment = start
    while moment < end:
        later = moment + step
        if offset(later) != offset(moment):
            low, high = moment, later  # find the first minute with the new offset
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if offset(middle) == offset(moment):
                    low = middle
                else:
                    high = middle
            high = high.replace(second=0, microsecond=0)
            if offset(high) == offset(moment):
                high += timedelta(minutes=1)
            tz.add_component(component(high, offset(moment), offset(later)))
        moment = later
    return tz
