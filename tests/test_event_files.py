"""Event files: the documented TOML format, `events import`, and `seed`."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from vigil.event_files import SEED_FILE, EventFileError, import_events, read_event_file, seed
from vigil.extensions import db
from vigil.local_time import next_anniversary
from vigil.models import Event

BASIC = """
[[events]]
slug = "vigil-for-liu-xiaobo"
title = "Vigil for Liu Xiaobo 刘晓波"
timezone = "Europe/London"
starts = 2018-07-13T18:00:00
ends = 2018-07-13T20:00:00
venue = "Opposite the Chinese Embassy"
street_address = "49-59 Portland Place"
locality = "London"
postcode = "W1B 1JL"
capacity = 100
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_local_times_are_stored_in_utc(tmp_path):
    (event,) = read_event_file(write(tmp_path, BASIC))
    # 18:00 British Summer Time is 17:00 UTC.
    assert event["starts_at"] == datetime(2018, 7, 13, 17, 0, tzinfo=UTC)
    assert event["ends_at"] == datetime(2018, 7, 13, 19, 0, tzinfo=UTC)
    assert event["status"] == "published"
    assert event["capacity"] == 100


@pytest.mark.parametrize(
    "change, message",
    [
        ('timezone = "Europe/London"', "'timezone' 'Mars/Olympus' is not an IANA"),
        ("ends = 2018-07-13T20:00:00", "'ends' must be after 'starts'"),
        ("capacity = 100", "'capacity' must be a whole number"),
        ('slug = "vigil-for-liu-xiaobo"', "'slug' may only hold"),
        ("starts = 2018-07-13T18:00:00", "'starts' does not exist"),
    ],
)
def test_bad_values_are_reported_by_name(tmp_path, change, message):
    replacement = {
        'timezone = "Europe/London"': 'timezone = "Mars/Olympus"',
        "ends = 2018-07-13T20:00:00": "ends = 2018-07-13T17:00:00",
        "capacity = 100": "capacity = -5",
        'slug = "vigil-for-liu-xiaobo"': 'slug = "Not A Slug!"',
        # 01:30 on the last Sunday of March does not exist in London.
        "starts = 2018-07-13T18:00:00": "starts = 2018-03-25T01:30:00",
    }[change]
    text = BASIC.replace(change, replacement)
    if "2018-03-25" in text:
        text = text.replace("ends = 2018-07-13T20:00:00", "ends = 2018-03-25T05:00:00")
    with pytest.raises(EventFileError, match=message.replace("(", r"\(")):
        read_event_file(write(tmp_path, text))


def test_missing_and_unknown_keys_and_overlong_text_are_all_reported(tmp_path):
    text = BASIC.replace('venue = "Opposite the Chinese Embassy"\n', "")
    text = text.replace('title = "Vigil for Liu Xiaobo 刘晓波"', 'title = "' + "x" * 201 + '"')
    text += 'colour = "red"\n'
    with pytest.raises(EventFileError) as info:
        read_event_file(write(tmp_path, text))
    message = str(info.value)
    assert "'venue' is required" in message
    assert "'title' is longer than 200" in message
    assert "unknown keys: colour" in message


def test_broken_toml_is_a_clear_error(tmp_path):
    with pytest.raises(EventFileError, match="not valid TOML"):
        read_event_file(write(tmp_path, "[[events]\nslug ="))


def test_import_creates_then_updates_by_slug_and_raises_sequence_on_a_move(ctx, tmp_path):
    path = write(tmp_path, BASIC)
    assert [r.action for r in import_events(path)] == ["created"]
    db.session.commit()
    assert [r.action for r in import_events(path)] == ["unchanged"]
    db.session.commit()
    event = db.session.scalar(select(Event).where(Event.slug == "vigil-for-liu-xiaobo"))
    assert event.sequence == 0

    # A new summary is an update, but not a move: calendars need not be told.
    write(tmp_path, BASIC + 'summary = "Candles provided."\n')
    assert [r.action for r in import_events(path)] == ["updated"]
    db.session.commit()
    assert event.sequence == 0

    write(tmp_path, BASIC.replace("T18:00", "T19:00").replace("T20:00", "T21:00"))
    import_events(path)
    db.session.commit()
    assert event.sequence == 1
    assert event.starts_at == datetime(2018, 7, 13, 18, 0, tzinfo=UTC)

    write(tmp_path, BASIC.replace("49-59 Portland Place", "Parliament Square"))
    import_events(path)
    db.session.commit()
    assert event.sequence == 2


def test_a_file_with_one_bad_event_stores_nothing(ctx, tmp_path, runner):
    bad = BASIC + BASIC.replace("vigil-for-liu-xiaobo", "second").replace(
        "capacity = 100", "capacity = -1"
    )
    result = runner.invoke(args=["events", "import", str(write(tmp_path, bad))])
    assert result.exit_code != 0
    assert "event second" in result.output
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_events_import_command_reports_each_event(ctx, tmp_path, runner):
    result = runner.invoke(args=["events", "import", str(write(tmp_path, BASIC))])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created: vigil-for-liu-xiaobo"


def test_the_seed_file_holds_the_embassy_demonstration():
    (event,) = read_event_file(SEED_FILE)
    assert event["slug"] == "human-rights-day-2017"
    assert event["title"].startswith("Human Rights Day 2017")
    assert event["starts_at"] == datetime(2017, 12, 10, 11, 0, tzinfo=UTC)
    assert event["ends_at"] == datetime(2017, 12, 10, 13, 0, tzinfo=UTC)
    assert event["timezone"] == "Europe/London"
    assert (event["street_address"], event["locality"], event["postcode"]) == (
        "49-59 Portland Place",
        "London",
        "W1B 1JL",
    )
    assert "Great Portland Street" in event["transport"]
    assert "Oxford Circus" in event["transport"]
    assert len(event["demands"]) == 3
    for name in (
        "刘晓波",
        "刘霞",
        "杨天水",
        "王炳章",
        "高智晟",
        "甄江华",
        "Ilham Tohti",
        "Tashi Wangchuk",
    ):
        assert name in event["description"]


def test_next_anniversary_keeps_local_time_across_years():
    (event,) = read_event_file(SEED_FILE)
    copy = next_anniversary(event, date(2026, 11, 26))
    assert copy["slug"] == "human-rights-day-2026"
    assert copy["title"].startswith("Human Rights Day 2026")
    assert copy["starts_at"] == datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
    later = next_anniversary(event, date(2026, 12, 11))
    assert later["starts_at"] == datetime(2027, 12, 10, 11, 0, tzinfo=UTC)


def test_seed_twice_changes_nothing(ctx, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    events = {e.slug: (e.id, e.updated_at, e.sequence) for e in db.session.scalars(select(Event))}
    assert len(events) == 2
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "created" not in second.output
    db.session.expire_all()
    again = {e.slug: (e.id, e.updated_at, e.sequence) for e in db.session.scalars(select(Event))}
    assert again == events


def test_seed_copy_is_upcoming_on_the_next_10_december(ctx):
    seed(date.today())
    db.session.commit()
    copy = db.session.scalars(select(Event).where(Event.slug != "human-rights-day-2017")).one()
    local = copy.starts_at.astimezone(copy.zone)
    assert (local.month, local.day, local.hour, local.minute) == (12, 10, 11, 0)
    assert copy.starts_at > datetime.now(UTC)


def test_the_seed_copy_tells_the_2017_facts_with_their_dates(ctx):
    """The 2017 text says "this past autumn" and "four months ago": true in December
    2017, wrong on every later 10 December."""
    seed(date.today())
    db.session.commit()
    original = db.session.scalars(select(Event).where(Event.slug == "human-rights-day-2017")).one()
    copy = db.session.scalars(select(Event).where(Event.slug != "human-rights-day-2017")).one()
    assert "four months ago" in original.description  # the original stays as it was
    for dated in ("This past autumn", "four months ago", "since 18 November.", "in March"):
        assert dated not in copy.description, dated
    for fact in ("Liu Xiaobo (刘晓波)", "July 2017", "Ilham Tohti", "Lee Ming-cheh", "2014"):
        assert fact in copy.description, fact


def test_raising_capacity_by_import_promotes_the_waitlist_in_order(ctx, app, tmp_path):
    from vigil import rsvps
    from vigil.models import Rsvp

    future = BASIC.replace("2018-07-13", "2031-07-13").replace("capacity = 100", "capacity = 2")
    path = write(tmp_path, future)
    import_events(path)
    db.session.commit()
    event = db.session.scalar(select(Event))
    for address, guests in (("a@example.org", 1), ("group@example.org", 4), ("b@example.org", 0)):
        person = rsvps.create_rsvp(event, email=address, guests=guests).rsvp
        rsvps.confirm_rsvp(person)  # each confirms from their mailbox, in this order
        db.session.commit()
        event = db.session.scalar(select(Event))
    assert {r.status for r in db.session.scalars(select(Rsvp))} == {"confirmed", "waitlisted"}
    write(tmp_path, future.replace("capacity = 2", "capacity = 8"))
    import_events(path)
    db.session.commit()
    statuses = {r.email: r.status for r in db.session.scalars(select(Rsvp))}
    assert statuses == {
        "a@example.org": "confirmed",
        "group@example.org": "confirmed",
        "b@example.org": "confirmed",
    }


def test_seed_gives_the_demonstration_its_volunteer_roles(ctx, runner):
    from vigil.models import Role, Shift

    runner.invoke(args=["seed"])
    runner.invoke(args=["seed"])  # twice: still one set
    for event in db.session.scalars(select(Event)):
        names = [
            r.name
            for r in db.session.scalars(
                select(Role).where(Role.event_id == event.id).order_by(Role.position)
            )
        ]
        assert names == [
            "Set-up",
            "Steward",
            "First aid",
            "Interpreter",
            "Leafleting",
            "Clear-down",
        ]
        stewards = db.session.scalar(
            select(Role).where(Role.event_id == event.id, Role.name == "Steward")
        )
        assert stewards.needs_phone and len(stewards.shifts) == 3
        local = [s.starts_at.astimezone(event.zone).strftime("%d %H:%M") for s in stewards.shifts]
        assert local == ["10 10:15", "10 11:00", "10 13:00"]
    assert db.session.scalar(select(func.count()).select_from(Shift)) == 16


def test_bad_roles_in_a_file_are_reported(tmp_path):
    text = (
        BASIC
        + """
[[events.roles]]
name = "Steward"
needs_phone = "yes"

  [[events.roles.shifts]]
  starts = 2018-07-13T19:00:00
  ends = 2018-07-13T18:00:00
  capacity = 0
"""
    )
    with pytest.raises(EventFileError) as info:
        read_event_file(write(tmp_path, text))
    message = str(info.value)
    assert "'needs_phone' must be true or false" in message
    assert "'ends' must be after 'starts'" in message
    assert "'capacity' must be at least 1" in message


def test_a_file_keeps_the_same_rules_as_the_organisers_form(tmp_path):
    text = BASIC + "rsvp_opens = 2018-07-10T10:00:00\nrsvp_closes = 2018-07-01T10:00:00\n"
    with pytest.raises(EventFileError, match="'rsvp_closes' must be after 'rsvp_opens'"):
        read_event_file(write(tmp_path, text))
