"""Event files: events kept as TOML, loaded by `flask --app vigil events import` and `seed`.

Times in a file are local times at the place (TOML local date-times) in the event's
`timezone`; they are stored in UTC. This module checks the file's shape; the rules
every event keeps are event_rules'. The format is documented in the README.
"""

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from . import models as m
from .event_changes import update_event
from .event_rules import (
    SHIFT_TIMES,
    EventRulesBroken,
    check_event,
    shift_problems,
    stored_times,
)
from .event_text import TEXT_FIELDS, clean_translations
from .extensions import db
from .languages import TRANSLATED
from .local_time import next_anniversary, zone_named
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
    "latitude": (False, None, "number"),
    "longitude": (False, None, "number"),
    "timezone": (True, m.TIMEZONE_MAX, "timezone"),
    "starts": (True, None, "datetime"),
    "ends": (True, None, "datetime"),
    "capacity": (False, None, "count"),
    "rsvp_opens": (False, None, "datetime"),
    "rsvp_closes": (False, None, "datetime"),
    "status": (False, None, "status"),
    "retention_days": (False, None, "count"),
    "confirm_by_email": (False, None, "bool"),
    "discreet_subjects": (False, None, "bool"),
    "roles": (False, None, "roles"),
    # [events.translations.zh_Hans] and [events.translations.zh_Hant]: the same keys
    # as the event's own words, each optional.
    "translations": (False, None, "translations"),
}
TRANSLATION_FIELDS = {
    key: (False, limit, kind)
    for key, (_required, limit, kind) in FIELDS.items()
    if key in TEXT_FIELDS
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
    "capacity": (True, None, "count"),
    "meeting_point": (False, m.MEETING_POINT_MAX, "text"),
    "note": (False, m.ROLE_TEXT_MAX, "text"),
}

# Tab and newline are fine in long text; other control characters never are.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EventFileError(ValueError):
    """The file cannot be loaded; the message lists every problem found."""


@dataclass(frozen=True)
class ImportResult:
    slug: str
    action: str  # "created", "updated" or "unchanged"


def _check_value(key: str, value, limit, kind: str, problems: list[str]):
    """The shape a TOML value must have; the rules it must keep are event_rules'."""
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
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where} must be a number")
            return None
        return float(value)
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where} must be a whole number")
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
    if kind == "translations":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            problems.append(f"{where} must hold one table per language")
            return None
        unknown = sorted(set(value) - set(TRANSLATED))
        if unknown:
            problems.append(f"{where}: unknown languages: " + ", ".join(unknown))
        return clean_translations(
            {
                code: _check_table(value[code], TRANSLATION_FIELDS, problems, f"{key}.{code}")
                for code in TRANSLATED
                if code in value
            }
        )
    if kind == "status":
        if value not in EventStatus.ALL:
            problems.append(f"{where} must be one of {', '.join(EventStatus.ALL)}")
        return value
    raise AssertionError(kind)


def _check_table(raw: dict, fields: dict, problems: list[str], where: str = "") -> dict:
    """The values of one table whose shape is right, under their file keys."""
    prefix = f"{where}: " if where else ""
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        problems.append(f"{prefix}unknown keys: " + ", ".join(unknown))
    values = {}
    for key, (required, limit, kind) in fields.items():
        if key not in raw:
            if required:
                problems.append(f"{prefix}'{key}' is required")
            continue
        local: list[str] = []
        value = _check_value(key, raw[key], limit, kind, local)
        problems.extend(prefix + p for p in local)
        if value is not None:
            values[key] = value
    return values


def _parse_shift(raw: dict, zone: ZoneInfo, problems: list[str], where: str) -> dict:
    values = _check_table(raw, SHIFT_FIELDS, problems, where)
    times, skipped = stored_times(values, zone, SHIFT_TIMES)
    shift = {k: v for k, v in values.items() if k not in SHIFT_TIMES} | times
    broken = skipped + shift_problems(
        shift.get("starts_at"), shift.get("ends_at"), shift.get("capacity")
    )
    problems.extend(f"{where}: {p.detail}" for p in broken)
    return shift


def _parse_role(raw: dict, zone: ZoneInfo, problems: list[str]) -> dict:
    name = raw.get("name", "?")
    role = _check_table(raw, ROLE_FIELDS, problems, f"role {name!r}")
    role["shifts"] = [
        _parse_shift(raw_shift, zone, problems, f"a shift of {name!r}")
        for raw_shift in role.get("shifts") or []
    ]
    return role


def parse_event(raw: dict) -> dict:
    """Turn one `[[events]]` table into column values, or raise EventFileError."""
    problems: list[str] = []
    values = _check_table(raw, FIELDS, problems)
    roles = values.pop("roles", None)
    translations = values.pop("translations", None)
    columns = {}
    try:
        columns = check_event(values)
    except EventRulesBroken as broken:
        problems.extend(broken.details())
    zone = zone_named(values["timezone"]) if "timezone" in values else None
    if roles is not None and zone is not None:
        columns["roles"] = [_parse_role(r, zone, problems) for r in roles]
    if problems:
        slug = values.get("slug")
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
    columns["discreet_subjects"] = bool(columns.get("discreet_subjects"))
    columns["translations"] = translations
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
    update = update_event(event, columns, move_shifts=False)  # the file says where they are
    _store_roles(event, roles)
    db.session.flush()
    return ImportResult(columns["slug"], "updated" if update.changed else "unchanged")


def import_events(path: Path) -> list[ImportResult]:
    return [store_event(columns) for columns in read_event_file(path)]


SEED_FILE = Path(__file__).parent / "data" / "human-rights-day-2017.toml"
# The copy's description: the 2017 facts with their dates, since the 2017 text says
# "this past autumn" and "four months ago", which are wrong on any later date.
ANNIVERSARY_DESCRIPTION = Path(__file__).parent / "data" / "human-rights-day-anniversary.txt"


def seed(today: date) -> list[ImportResult]:
    """The 2017 demonstration as it was, and a copy on the next 10 December to try flows on."""
    (original,) = read_event_file(SEED_FILE)
    copy = next_anniversary(original, today)
    if copy["ends_at"] <= datetime.now(UTC):
        copy = next_anniversary(original, today + timedelta(days=1))
    copy["description"] = ANNIVERSARY_DESCRIPTION.read_text(encoding="utf-8").strip()
    for code, fields in (copy.get("translations") or {}).items():
        translated = ANNIVERSARY_DESCRIPTION.with_suffix(f".{code}.txt")
        fields["description"] = translated.read_text(encoding="utf-8").strip()
    return [store_event(original), store_event(copy)]
