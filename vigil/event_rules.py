"""The rules every event and shift keeps, whoever writes it: the organiser's form,
an event file, the command line.

Values come in under the names people write them (`starts`, `rsvp_closes`, ...),
with times as the clock at the place shows them. `check_event` returns the values
to store (times in UTC) or raises EventRulesBroken naming every broken rule beside
its field. Checks of shape (required, length, type, control characters) stay with
each way in, since a form and a TOML file are shaped differently.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from .errors import VigilError
from .local_time import SkippedTime, to_utc, zone_named
from .models import SLUG_MAX

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# Names of the local times, and the columns they are stored in.
LOCAL_TIMES = {
    "starts": "starts_at",
    "ends": "ends_at",
    "rsvp_opens": "rsvp_opens_at",
    "rsvp_closes": "rsvp_closes_at",
}

# A shift's local times, and the columns they are stored in.
SHIFT_TIMES = {"starts": "starts_at", "ends": "ends_at"}

CAPACITY_MAX = 1_000_000
RETENTION_DAYS_MAX = 3650
SHIFT_CAPACITY_MAX = 10_000


@dataclass(frozen=True)
class Problem:
    """One broken rule: `message` is shown to people beside `field`; `detail` names
    the keys, for the error list of an event file."""

    field: str
    message: str
    detail: str


class EventRulesBroken(VigilError):
    status_code = 422

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].message)
        self.problems = problems

    def details(self) -> list[str]:
        return [p.detail for p in self.problems]


def is_slug(value: str) -> bool:
    return len(value) <= SLUG_MAX and bool(SLUG_PATTERN.fullmatch(value))


def stored_times(values: dict, zone: ZoneInfo, names: dict) -> tuple[dict, list[Problem]]:
    """The local times among `values` (`names` maps each to its column) in UTC, and a
    problem for each time the clocks skip. An absent value stays absent, None stays None."""
    columns, problems = {}, []
    for name, column in names.items():
        if name not in values:
            continue
        local = values[name]
        if not isinstance(local, datetime):
            columns[column] = None
            continue
        try:
            columns[column] = to_utc(local, zone)
        except SkippedTime:
            problems.append(
                Problem(
                    name,
                    _l("That time does not exist there: the clocks skip it."),
                    f"'{name}' does not exist in that time zone (the clocks skip it)",
                )
            )
    return columns, problems


def end_after_start(starts_at, ends_at, message) -> list[Problem]:
    """Events and shifts alike: nothing ends before it begins."""
    if starts_at and ends_at and ends_at <= starts_at:
        return [Problem("ends", message, "'ends' must be after 'starts'")]
    return []


def _zone(name, problems: list[Problem]) -> ZoneInfo | None:
    if not isinstance(name, str):
        return None
    zone = zone_named(name)
    if zone is None:
        problems.append(
            Problem(
                "timezone",
                _l("Choose a time zone from the list."),
                f"'timezone' {name!r} is not an IANA time zone name",
            )
        )
    return zone


def _rsvp_window(columns: dict) -> list[Problem]:
    opens, closes = columns.get("rsvp_opens_at"), columns.get("rsvp_closes_at")
    ends = columns.get("ends_at")
    if opens and closes and closes <= opens:
        return [
            Problem(
                "rsvp_closes",
                _l("RSVPs must close after they open."),
                "'rsvp_closes' must be after 'rsvp_opens'",
            )
        ]
    if opens and ends and opens >= ends:
        return [
            Problem(
                "rsvp_opens",
                _l("RSVPs must open before the event ends."),
                "'rsvp_opens' must be before 'ends'",
            )
        ]
    return []


def _place(values: dict) -> list[Problem]:
    problems = []
    latitude, longitude = values.get("latitude"), values.get("longitude")
    for name, value, bound, message in (
        ("latitude", latitude, 90, _l("Latitude is between -90 and 90.")),
        ("longitude", longitude, 180, _l("Longitude is between -180 and 180.")),
    ):
        if value is not None and not (math.isfinite(value) and -bound <= value <= bound):
            problems.append(
                Problem(name, message, f"'{name}' must be between -{bound} and {bound}")
            )
    if (latitude is None) != (longitude is None):
        problems.append(
            Problem(
                "longitude" if longitude is None else "latitude",
                _l("Give both latitude and longitude, or neither."),
                "give both 'latitude' and 'longitude', or neither",
            )
        )
    return problems


def _numbers(values: dict) -> list[Problem]:
    problems = []
    capacity, days = values.get("capacity"), values.get("retention_days")
    if capacity is not None and not 0 <= capacity <= CAPACITY_MAX:
        problems.append(
            Problem(
                "capacity",
                _l("Places must be a whole number, 0 or more."),
                "'capacity' must be a whole number, 0 or more",
            )
        )
    if days is not None and not 0 <= days <= RETENTION_DAYS_MAX:
        problems.append(
            Problem(
                "retention_days",
                _l("Give a number of days from 0 to 3650."),
                f"'retention_days' must be a whole number from 0 to {RETENTION_DAYS_MAX}",
            )
        )
    return problems


def check_event(values: dict) -> dict:
    """The values to store for an event written as people write it.

    Checks the slug's form, the time zone, that every local time exists there, that
    the event ends after it starts, that RSVPs open before they close and before the
    end, the map position (both or neither, within range) and the numbers. Values
    that are absent are not checked. Raises EventRulesBroken listing every problem.
    """
    problems: list[Problem] = []
    slug = values.get("slug")
    if isinstance(slug, str) and not is_slug(slug):
        problems.append(
            Problem(
                "slug",
                _l("Use lower-case letters, digits and single hyphens, like human-rights-day."),
                "'slug' may only hold lower-case letters, digits and single hyphens",
            )
        )
    columns = {k: v for k, v in values.items() if k not in LOCAL_TIMES}
    zone = _zone(values.get("timezone"), problems)
    if zone is not None:
        times, skipped = stored_times(values, zone, LOCAL_TIMES)
        columns.update(times)
        problems += skipped
        problems += end_after_start(
            columns.get("starts_at"), columns.get("ends_at"), _l("The end must be after the start.")
        )
        problems += _rsvp_window(columns)
    problems += _place(values)
    problems += _numbers(values)
    if problems:
        raise EventRulesBroken(problems)
    return columns


def shift_problems(starts_at, ends_at, capacity: int | None = None) -> list[Problem]:
    """A shift ends after it starts and has at least one place."""
    problems = end_after_start(starts_at, ends_at, _l("A shift must end after it starts."))
    if capacity is not None and not 1 <= capacity <= SHIFT_CAPACITY_MAX:
        problems.append(
            Problem(
                "capacity",
                _l("Places must be between 1 and 10000."),
                f"'capacity' must be at least 1 and at most {SHIFT_CAPACITY_MAX}",
            )
        )
    return problems
