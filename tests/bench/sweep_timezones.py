"""Every zone in the tz database, read back from a Vigil calendar file by two parsers.

    .venv/bin/python tests/bench/sweep_timezones.py [--first 2026] [--last 2027] [--zone KEY]

Run by hand (it takes minutes, so pytest does not collect it). For each zone in
`zoneinfo.available_timezones()` it builds one file with an event on the 10th of
every month from `--first` to `--last`, then reads the file's VTIMEZONE with
vobject (dateutil's reading of the component) and with icalendar (`to_tz` told not
to look the TZID up, so it too interprets the component), and compares every hour
of those years with zoneinfo. An hour counts as wrong when either reader gives
another UTC offset for the local time (the second of two equal local times after
a clock goes back cannot be written without an offset, so it is skipped). It also
checks that each event's DTSTART reads back, through vobject, to the same instant,
and lists the zones where it does not: vobject takes a VTIMEZONE that never leaves
+00:00 for UTC and, when it cannot look the TZID up itself (tzdb's placeholder
"Factory", the machine's own "localtime"), reads the times as floating.
The run must end with 0 wrong hours.
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import icalendar
import vobject

from vigil.calendar import CalendarEntry, build_calendar


def entries(key: str, first: int, last: int) -> list[CalendarEntry]:
    zone = ZoneInfo(key)
    made = []
    for year in range(first, last + 1):
        for month in range(1, 13):
            starts = datetime(year, month, 10, 11, tzinfo=zone).astimezone(UTC)
            made.append(
                CalendarEntry(
                    uid=f"sweep-{year}-{month}@vigil.example",
                    summary="Sweep",
                    description="",
                    location="",
                    url="https://vigil.example/",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    timezone=key,
                    sequence=0,
                    last_modified=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )
    return made


def wrong_hours(key: str, first: int, last: int) -> tuple[int, int, int, list[str]]:
    """(hours compared, hours wrong, DTSTARTs misread, a few examples) for one zone."""
    made = entries(key, first, last)
    data = build_calendar(made)
    text = data.decode()
    vcal = vobject.readOne(text)
    from_vobject = vcal.vtimezone.gettzinfo()
    (component,) = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
    from_icalendar = component.to_tz(lookup_tzid=False)
    real = ZoneInfo(key)
    examples = []
    misread = 0
    for vevent, made_entry in zip(vcal.vevent_list, made, strict=True):
        if vevent.dtstart.value != made_entry.starts_at:
            misread += 1
            if len(examples) < 1:
                examples.append(f"DTSTART {vevent.dtstart.value} != {made_entry.starts_at}")
    wrong = compared = 0
    moment, end = datetime(first, 1, 1, tzinfo=UTC), datetime(last + 1, 1, 1, tzinfo=UTC)
    while moment < end:
        local = moment.astimezone(real)
        if local.fold == 0:
            compared += 1
            naive = local.replace(tzinfo=None)
            readings = (from_vobject.utcoffset(naive), from_icalendar.utcoffset(naive))
            if any(reading != local.utcoffset() for reading in readings):
                wrong += 1
                if len(examples) < 3:
                    examples.append(f"{moment:%Y-%m-%d %H:%M}Z {readings} != {local.utcoffset()}")
        moment += timedelta(hours=1)
    return compared, wrong, misread, examples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=2026)
    parser.add_argument("--last", type=int, default=2027)
    parser.add_argument("--zone", action="append", help="only this zone (repeatable)")
    args = parser.parse_args()
    zones = sorted(args.zone or available_timezones())
    started = time.perf_counter()
    total_hours = total_wrong = 0
    bad_zones, misread_zones = [], []
    for key in zones:
        compared, wrong, misread, examples = wrong_hours(key, args.first, args.last)
        total_hours += compared
        total_wrong += wrong
        if wrong:
            bad_zones.append(key)
        if misread:
            misread_zones.append(key)
        if wrong or misread:
            print(
                f"{key}: {wrong} wrong hours, {misread} DTSTARTs misread by vobject; "
                + "; ".join(examples),
                flush=True,
            )
    took = time.perf_counter() - started
    print(
        f"{len(zones)} zones, {total_hours} zone-hours of {args.first}-{args.last} compared, "
        f"{total_wrong} wrong in {len(bad_zones)} zones, {took:.0f} s; "
        f"DTSTART misread by vobject in {len(misread_zones)} zones {misread_zones}"
    )
    return 1 if total_wrong else 0


if __name__ == "__main__":
    sys.exit(main())
