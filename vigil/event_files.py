"""Event files: events kept as TOML, loaded by `flask --app vigil events import` and `seed`.

Times in a file are local times at the place (TOML local date-times) in the event's
`timezone`; they are stored in UTC. The format is documented in the README.
"""

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select

from . import models as m
from .event_changes import update_event
from .events import is_slug
from .extensions import db
from .models import Event, EventStatus, Role, Shift

# key: (required, max length for text or None, kind)
FIELDS = {
    "slug": (True, m.SLUG_MAX, "text"),
    "title": (True, m.TITLE_MAX, "text"),
    "summary": (False, m.SUMMARY_MAX, "text"),
    "description": (False, m.DESCRIPTION_MAX, "text"),
    "demands": (False, m.DEMAND_MAX, "list"),
    "venue": (True, m.VENUE_MAX, "text"),
    "street_address": (True, m.ADDRESS_MAX, "text"),
    "locality": (True, m.LOCALITY_MAX, "text"),
    "postcode": (True, m.POSTCODE_MAX, "text"),
    "transport": (False, m.TRANSPORT_MAX, "text"),
    "latitude": (False, None, "latitude"),
    "longitude": (False, None, "longitude"),
    "timezone": (True, m.TIMEZONE_MAX, "timezone"),
    "starts": (True, None, "datetime"),
    "ends": (True, None, "datetime"),
    "capacity": (False, None, "capacity"),
    "rsvp_opens": (False, None, "datetime"),
    "rsvp_closes": (False, None, "datetime"),
    "status": (False, None, "status"),
    "retention_days": (False, None, "capacity"),
    "confirm_by_email": (False, None, "bool"),
    "roles": (False, None, "roles"),
}

ROLE_FIELDS = {
    "name": (True, m.ROLE_NAME_MAX, "text"),
    "duty": (False, m.ROLE_TEXT_MAX, "text"),
    "what_to_bring": (False, m.ROLE_TEXT_MAX, "text"),
    "needs_phone": (False, None, "bool"),
    "briefing": (False, m.ROLE_TEXT_MAX, "text"),
    "shifts": (True, None, "shifts"),
}

SHIFT_FIELDS = {
    "starts": (True, None, "datetime"),
    "ends": (True, None, "datetime"),
    "capacity": (True, None, "capacity"),
    "meeting_point": (False, m.MEETING_POINT_MAX, "text"),
    "note": (False, m.ROLE_TEXT_MAX, "text"),
}

# File keys that are stored under another column name.
COLUMN_FOR = {
    "starts": "starts_at",
    "ends": "ends_at",
    "rsvp_opens": "rsvp_opens_at",
    "rsvp_closes": "rsvp_closes_at",
}

# Tab and newline are fine in long text; other control characters never are.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EventFileError(ValueError):
    """The file cannot be loaded; the message lists every problem found."""


@dataclass(frozen=True)
class ImportResult:
    slug: str
    action: str  # "created", "updated" or "unchanged"


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Interpret a wall-clock time at the place; refuse times skipped by a clock change."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    aware = local.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError("does not exist in that time zone (the clocks skip it)")
    return aware.astimezone(UTC)


def to_local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The wall-clock time at the place, without zone: what a form shows and takes."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def _check_value(key: str, value, limit, kind: str, problems: list[str]):
    where = f"'{key}'"
    if kind == "text" or kind == "timezone":
        if not isinstance(value, str):
            problems.append(f"{where} must be text")
            return None
        value = value.strip()
        if limit and len(value) > limit:
            problems.append(f"{where} is longer than {limit} characters")
        if _CONTROL.search(value):
            problems.append(f"{where} contains control characters")
        return value
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{where} must be a list of text")
            return None
        items = [v.strip() for v in value if v.strip()]
        if any(len(v) > limit for v in items):
            problems.append(f"an item of {where} is longer than {limit} characters")
        if any(_CONTROL.search(v) for v in items):
            problems.append(f"{where} contains control characters")
        return items
    if kind in ("latitude", "longitude"):
        bound = 90 if kind == "latitude" else 180
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where} must be a number")
            return None
        if not -bound <= value <= bound:
            problems.append(f"{where} must be between -{bound} and {bound}")
        return float(value)
    if kind == "capacity":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(f"{where} must be a whole number, 0 or more")
            return None
        return value
    if kind == "datetime":
        if not isinstance(value, datetime):
            problems.append(f"{where} must be a date and time such as 2017-12-10T11:00:00")
            return None
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            problems.append(f"{where} must be true or false")
        return bool(value)
    if kind in ("roles", "shifts"):
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            problems.append(f"{where} must be a list of tables")
            return None
        return value
    if kind == "status":
        if value not in EventStatus.ALL:
            problems.append(f"{where} must be one of {', '.join(EventStatus.ALL)}")
        return value
    raise AssertionError(kind)


def _parse_table(raw: dict, fields: dict, zone, problems: list[str], where: str) -> dict:
    """Check one nested table (a role or a shift) against its field list."""
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        problems.append(f"{where}: unknown keys: " + ", ".join(unknown))
    values = {}
    for key, (required, limit, kind) in fields.items():
        if key not in raw:
            if required:
                problems.append(f"{where}: '{key}' is required")
            continue
        local: list[str] = []
        value = _check_value(key, raw[key], limit, kind, local)
        problems.extend(f"{where}: {p}" for p in local)
        if kind == "datetime" and isinstance(value, datetime):
            try:
                value = to_utc(value, zone)
            except ValueError as exc:
                problems.append(f"{where}: '{key}' {exc}")
                continue
        values[COLUMN_FOR.get(key, key)] = value
    return values


def _parse_role(raw: dict, zone, problems: list[str]) -> dict:
    name = raw.get("name", "?")
    role = _parse_table(raw, ROLE_FIELDS, zone, problems, f"role {name!r}")
    shifts = []
    for raw_shift in role.get("shifts") or []:
        shift = _parse_table(raw_shift, SHIFT_FIELDS, zone, problems, f"a shift of {name!r}")
        if shift.get("capacity") == 0:
            problems.append(f"a shift of {name!r}: 'capacity' must be at least 1")
        starts, ends = shift.get("starts_at"), shift.get("ends_at")
        if starts and ends and ends <= starts:
            problems.append(f"a shift of {name!r}: 'ends' must be after 'starts'")
        shifts.append(shift)
    role["shifts"] = shifts
    return role


def parse_event(raw: dict) -> dict:
    """Turn one `[[events]]` table into column values, or raise EventFileError."""
    problems: list[str] = []
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        problems.append("unknown keys: " + ", ".join(unknown))
    values = {}
    for key, (required, limit, kind) in FIELDS.items():
        if key not in raw:
            if required:
                problems.append(f"'{key}' is required")
            continue
        values[key] = _check_value(key, raw[key], limit, kind, problems)

    slug = values.get("slug")
    if isinstance(slug, str) and not is_slug(slug):
        problems.append("'slug' may only hold lower-case letters, digits and single hyphens")
    tz = values.get("timezone")
    zone = None
    if isinstance(tz, str):
        if tz not in available_timezones():
            problems.append(f"'timezone' {tz!r} is not an IANA time zone name")
        else:
            try:
                zone = ZoneInfo(tz)
            except ZoneInfoNotFoundError:
                problems.append(f"'timezone' {tz!r} is not an IANA time zone name")
    if ("latitude" in values) != ("longitude" in values):
        problems.append("give both 'latitude' and 'longitude', or neither")

    columns = {}
    for key, value in values.items():
        column = COLUMN_FOR.get(key, key)
        if FIELDS[key][2] == "datetime" and isinstance(value, datetime):
            if zone is None:
                continue
            try:
                value = to_utc(value, zone)
            except ValueError as exc:
                problems.append(f"'{key}' {exc}")
                continue
        columns[column] = value
    starts, ends = columns.get("starts_at"), columns.get("ends_at")
    if starts and ends and ends <= starts:
        problems.append("'ends' must be after 'starts'")
    if columns.get("roles") is not None and zone is not None:
        columns["roles"] = [_parse_role(r, zone, problems) for r in columns["roles"]]
    if problems:
        name = slug if isinstance(slug, str) else "?"
        raise EventFileError(f"event {name}: " + "; ".join(problems))
    columns.setdefault("status", EventStatus.PUBLISHED)
    for key in ("summary", "description", "transport"):
        columns.setdefault(key, "")
    columns.setdefault("demands", [])
    columns.setdefault("roles", [])
    for key in (
        "latitude",
        "longitude",
        "capacity",
        "rsvp_opens_at",
        "rsvp_closes_at",
        "retention_days",
        "confirm_by_email",
    ):
        columns.setdefault(key, None)
    return columns


def read_event_file(path: Path) -> list[dict]:
    """Parse and check a whole file before anything is stored."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EventFileError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise EventFileError(f"{path} is not valid TOML: {exc}") from exc
    raw_events = data.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise EventFileError(f"{path} holds no [[events]] tables")
    problems, parsed = [], []
    for raw in raw_events:
        try:
            parsed.append(parse_event(raw))
        except EventFileError as exc:
            problems.append(str(exc))
    slugs = [p["slug"] for p in parsed]
    duplicated = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicated:
        problems.append("slugs used twice: " + ", ".join(duplicated))
    if problems:
        raise EventFileError("\n".join(problems))
    return parsed


def _store_roles(event: Event, roles: list[dict]) -> None:
    """Volunteer roles come from a file only for an event that has none yet; after
    that, people may be on the shifts, and changing them is the organisers' job."""
    if not roles or db.session.scalar(select(Role.id).where(Role.event_id == event.id).limit(1)):
        return
    for position, raw in enumerate(roles):
        values = {k: v for k, v in raw.items() if k != "shifts"}
        role = Role(event=event, position=position, **values)
        role.shifts = [Shift(**shift) for shift in raw["shifts"]]
        db.session.add(role)


def store_event(columns: dict) -> ImportResult:
    """Create the event, or update the one with the same slug (raising its sequence if moved)."""
    columns = dict(columns)
    roles = columns.pop("roles", [])
    event = db.session.scalar(select(Event).where(Event.slug == columns["slug"]))
    if event is None:
        event = Event(**columns)
        db.session.add(event)
        db.session.flush()
        _store_roles(event, roles)
        db.session.flush()
        return ImportResult(columns["slug"], "created")
    update = update_event(event, columns)
    _store_roles(event, roles)
    db.session.flush()
    return ImportResult(columns["slug"], "updated" if update.changed else "unchanged")


def import_events(path: Path) -> list[ImportResult]:
    return [store_event(columns) for columns in read_event_file(path)]


SEED_FILE = Path(__file__).parent / "data" / "human-rights-day-2017.toml"


def next_anniversary(columns: dict, today: date) -> dict:
    """A copy of an event moved to its next anniversary at the same local time.

    The year in the slug and title follows the new date, so the copy sits beside the
    original instead of replacing it.
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
    if copy["slug"] == columns["slug"]:
        copy["slug"] = f"{columns['slug']}-{year}"
    return copy


def seed(today: date) -> list[ImportResult]:
    """The 2017 demonstration as it was, and a copy on the next 10 December to try flows on."""
    (original,) = read_event_file(SEED_FILE)
    copy = next_anniversary(original, today)
    if copy["ends_at"] <= datetime.now(UTC):
        copy = next_anniversary(original, today + timedelta(days=1))
    return [store_event(original), store_event(copy)]
