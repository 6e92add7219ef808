"""Wall-clock time at an event's place: the time zones people pick from, turning a
local time into UTC and back, and moving an event to its next anniversary.

People write times as the clock at the place shows them; Vigil stores UTC. A local
time the clocks skip (the hour lost when summer time starts) does not exist there
and is refused rather than guessed.
"""

import functools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class SkippedTime(ValueError):
    """The clocks skip this local time in that zone."""


@functools.cache
def iana_zones() -> tuple[str, ...]:
    """The IANA names a person would pick (Area/Location), sorted; read from disk once."""
    skip = ("Etc/", "posix/", "right/", "SystemV/", "US/")
    names = sorted(z for z in available_timezones() if "/" in z and not z.startswith(skip))
    return ("UTC", *names)


def zone_named(name: str) -> ZoneInfo | None:
    """The zone for an IANA name, or None for a name that is not one."""
    if name not in available_timezones():
        return None
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return None


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Interpret a wall-clock time at the place; raises SkippedTime for a time the clocks skip."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    aware = local.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise SkippedTime("does not exist in that time zone (the clocks skip it)")
    return aware.astimezone(UTC)


def to_local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The wall-clock time at the place, without zone: what a form shows and takes."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def next_anniversary(columns: dict, today: date) -> dict:
    """A copy of an event's values moved to its next anniversary at the same local time.

    The year in the slug and title follows the new date, so the copy sits beside the
    original instead of replacing it; its roles' shifts move with it.
    """
    zone = ZoneInfo(columns["timezone"])
    start_local = columns["starts_at"].astimezone(zone)
    duration = columns["ends_at"] - columns["starts_at"]
    year = today.year
    if (start_local.month, start_local.day) < (today.month, today.day):
        year += 1
    moved_local = start_local.replace(year=year, tzinfo=None)
    starts_at = to_utc(moved_local, zone)
    old_year = str(start_local.year)
    copy = dict(columns)
    shift_by = starts_at - columns["starts_at"]
    copy["roles"] = [
        {
            **role,
            "shifts": [
                {**s, "starts_at": s["starts_at"] + shift_by, "ends_at": s["ends_at"] + shift_by}
                for s in role["shifts"]
            ],
        }
        for role in columns.get("roles", [])
    ]
    copy.update(
        slug=columns["slug"].replace(old_year, str(year)),
        title=columns["title"].replace(old_year, str(year)),
        summary=columns["summary"].replace(old_year, str(year)),
        starts_at=starts_at,
        ends_at=starts_at + duration,
        rsvp_opens_at=None,
        rsvp_closes_at=None,
    )
    if columns.get("translations"):
        copy["translations"] = {
            code: {
                k: v.replace(old_year, str(year)) if k in ("title", "summary") else v
                for k, v in fields.items()
            }
            for code, fields in columns["translations"].items()
        }
    if copy["slug"] == columns["slug"]:
        copy["slug"] = f"{columns['slug']}-{year}"
    return copy
