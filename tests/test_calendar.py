"""Calendar files, built by pure functions and read back by two independent parsers."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from vigil.calendar import (
    CalendarEntry,
    build_calendar,
    event_entry,
    event_uid,
    shift_entry,
    shift_uid,
)

HOSTILE = 'Free them, all; now \\ "quoted"\nsecond line — 刘晓波 ✊🏽 Ilham Tohti'


def entry(**overrides) -> CalendarEntry:
    values = dict(
        uid=event_uid("0b6f5c1e-8d1a-4c4e-9a57-6f1d2f1a0c11", "vigil.example"),
        title="Human Rights Day 2017",
        summary_text="Protesters will gather.",
        transport="Nearest tubes: Great Portland Street, Oxford Circus",
        venue="Opposite the Chinese Embassy",
        address="49-59 Portland Place, London W1B 1JL",
        url="https://vigil.example/events/human-rights-day-2017",
        starts_at=datetime(2017, 12, 10, 11, 0, tzinfo=UTC),
        ends_at=datetime(2017, 12, 10, 13, 0, tzinfo=UTC),
        timezone="Europe/London",
        sequence=0,
        updated_at=datetime(2017, 11, 1, 9, 30, tzinfo=UTC),
        cancelled=False,
        latitude=None,
        longitude=None,
    )
    values.update(overrides)
    return event_entry(**values)


def parse_both(data: bytes):
    """icalendar and vobject must both accept the file; return both readings."""
    cal = icalendar.Calendar.from_ical(data)
    vcal = vobject.readOne(data.decode("utf-8"))
    return cal, vcal


def test_every_required_property_is_there():
    data = build_calendar([entry(latitude=51.52095, longitude=-0.1453)])
    cal, vcal = parse_both(data)
    assert cal["VERSION"] == "2.0"
    assert "Vigil" in str(cal["PRODID"])
    (vevent,) = cal.walk("VEVENT")
    for prop in (
        "UID",
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "SUMMARY",
        "DESCRIPTION",
        "LOCATION",
        "URL",
        "GEO",
        "SEQUENCE",
        "LAST-MODIFIED",
        "STATUS",
    ):
        assert prop in vevent, prop
    assert vevent["STATUS"] == "CONFIRMED"
    assert vevent["UID"] == "event-0b6f5c1e-8d1a-4c4e-9a57-6f1d2f1a0c11@vigil.example"
    assert "GEO:51.520950;-0.145300\r\n" in data.decode()
    assert (
        str(vevent["LOCATION"])
        == "Opposite the Chinese Embassy, 49-59 Portland Place, London W1B 1JL"
    )
    description = str(vevent["DESCRIPTION"])
    assert "https://vigil.example/events/human-rights-day-2017" in description
    assert "Great Portland Street" in description
    assert "ORGANIZER" not in vevent and "ATTENDEE" not in vevent
    assert vcal.vevent.uid.value == str(vevent["UID"])


def test_dtstamp_is_the_last_change_so_same_data_gives_same_bytes():
    first, second = build_calendar([entry()]), build_calendar([entry()])
    assert first == second
    cal = icalendar.Calendar.from_ical(first)
    (vevent,) = cal.walk("VEVENT")
    assert vevent.decoded("DTSTAMP") == datetime(2017, 11, 1, 9, 30, tzinfo=UTC)
    assert vevent.decoded("LAST-MODIFIED") == datetime(2017, 11, 1, 9, 30, tzinfo=UTC)


def test_crlf_line_endings_no_bom_and_75_octet_folding_keeps_utf8_whole():
    data = build_calendar([entry(title="刘晓波 " * 40, summary_text=HOSTILE * 5)])
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never splits a character


def test_hostile_text_survives_a_round_trip_in_both_parsers():
    data = build_calendar([entry(title=HOSTILE, summary_text=HOSTILE, venue=HOSTILE)])
    cal, vcal = parse_both(data)
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == HOSTILE
    assert HOSTILE in str(vevent["DESCRIPTION"])
    assert str(vevent["LOCATION"]).startswith(HOSTILE)
    assert vcal.vevent.summary.value == HOSTILE
    assert HOSTILE in vcal.vevent.description.value


def test_unicode_line_breaks_and_controls_become_escaped_newlines_or_nothing():
    """U+2028, U+2029 and U+0085 are line ends to some parsers; unescaped they would
    split a property. They arrive as escaped newlines; other controls are dropped."""
    odd = "first\u2028second\u2029third\x85fourth\r\nfifth\x0bsixth\x1f"
    data = build_calendar([entry(title=odd, summary_text=odd, venue=odd)])
    assert not any(ch in data.decode("utf-8") for ch in "\u2028\u2029\x85\x0b\x1f")
    for line in data.split(b"\r\n"):
        assert b"\n" not in line and b"\r" not in line
    cal, vcal = parse_both(data)
    (vevent,) = cal.walk("VEVENT")
    expected = "first\nsecond\nthird\nfourth\nfifth" + "sixth"
    assert str(vevent["SUMMARY"]) == expected
    assert vcal.vevent.summary.value == expected
    assert str(vevent["LOCATION"]).startswith(expected)


@pytest.mark.parametrize(
    "start_utc, local, zone_name",
    [
        (datetime(2017, 12, 10, 11, 0, tzinfo=UTC), "20171210T110000", "GMT"),
        (datetime(2018, 7, 13, 17, 0, tzinfo=UTC), "20180713T180000", "BST"),
        # Changeover weekends: the Saturday before, the Sunday after the change.
        (datetime(2030, 3, 30, 12, 0, tzinfo=UTC), "20300330T120000", "GMT"),
        (datetime(2030, 3, 31, 11, 0, tzinfo=UTC), "20300331T120000", "BST"),
        (datetime(2030, 10, 26, 11, 0, tzinfo=UTC), "20301026T120000", "BST"),
        (datetime(2030, 10, 27, 12, 0, tzinfo=UTC), "20301027T120000", "GMT"),
    ],
)
def test_times_carry_the_zone_and_parsers_agree_on_the_instant(start_utc, local, zone_name):
    data = build_calendar([entry(starts_at=start_utc, ends_at=start_utc + timedelta(hours=2))])
    text = data.decode()
    assert f"DTSTART;TZID=Europe/London:{local}\r\n" in text
    cal, vcal = parse_both(data)
    (vevent,) = cal.walk("VEVENT")
    assert vevent.decoded("DTSTART") == start_utc
    assert vcal.vevent.dtstart.value == start_utc  # vobject reads our VTIMEZONE itself
    assert vcal.vevent.dtstart.value.tzname() == zone_name


def test_vtimezone_is_bounded_the_same_in_every_file_and_read_by_both_parsers():
    """icalendar lists the zone's actual changes (RDATEs, no RRULE), so the block is
    bounded by the span it covers, not by the event: one definition per zone."""
    data = build_calendar([entry()])
    cal = icalendar.Calendar.from_ical(data)
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/London"
    block = data.decode().split("BEGIN:VTIMEZONE")[1].split("END:VTIMEZONE")[0]
    assert block.count("\r\n") <= 200
    later = datetime(2030, 7, 1, 12, tzinfo=UTC)
    other = build_calendar([entry(starts_at=later, ends_at=later + timedelta(hours=1))])
    assert block in other.decode()
    from_block = tz.to_tz(lookup_tzid=False)  # icalendar reading the block, not its name
    from_vobject = vobject.readOne(data.decode()).vtimezone.gettzinfo()
    real = ZoneInfo("Europe/London")
    for moment in (
        datetime(2017, 3, 26, 0, 30, tzinfo=UTC),  # GMT, the night of the change
        datetime(2017, 3, 26, 1, 30, tzinfo=UTC),  # BST
        datetime(2017, 10, 29, 0, 30, tzinfo=UTC),  # BST, the first 01:30
        datetime(2017, 12, 10, 11, tzinfo=UTC),
        datetime(2037, 7, 1, 12, tzinfo=UTC),
    ):
        local = moment.astimezone(real).replace(tzinfo=None)
        assert from_block.utcoffset(local) == moment.astimezone(real).utcoffset(), moment
        assert from_vobject.utcoffset(local) == moment.astimezone(real).utcoffset(), moment


@pytest.mark.parametrize(
    "zone",
    ["America/New_York", "Australia/Sydney", "Asia/Shanghai", "Asia/Kolkata", "Pacific/Chatham"],
)
def test_other_zones_read_back_to_the_same_instant(zone):
    start = datetime(2031, 1, 15, 9, 0, tzinfo=UTC)
    data = build_calendar(
        [entry(timezone=zone, starts_at=start, ends_at=start + timedelta(hours=1))]
    )
    _, vcal = parse_both(data)
    assert vcal.vevent.dtstart.value == start


def test_cancelled_event_is_marked_and_prefixed():
    data = build_calendar([entry(cancelled=True, sequence=2)])
    cal, vcal = parse_both(data)
    (vevent,) = cal.walk("VEVENT")
    assert vevent["STATUS"] == "CANCELLED"
    assert vevent["SEQUENCE"] == 2
    assert str(vevent["SUMMARY"]) == "CANCELLED: Human Rights Day 2017"


def test_feed_properties_and_one_vevent_per_uid():
    entries = [entry(), entry(uid="event-other@vigil.example", title="Other")]
    data = build_calendar(
        entries, name="Vigil London", description="Line one\nline two", refresh=timedelta(hours=1)
    )
    text = data.decode()
    for line in (
        "NAME:Vigil London",
        "X-WR-CALNAME:Vigil London",
        "DESCRIPTION:Line one line two",
        "X-WR-CALDESC:Line one line two",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ):
        assert line + "\r\n" in text, line
    cal, _ = parse_both(data)
    uids = [str(v["UID"]) for v in cal.walk("VEVENT")]
    assert len(uids) == len(set(uids)) == 2
    assert len(cal.walk("VTIMEZONE")) == 1


def test_email_attachment_says_publish():
    data = build_calendar([entry()], method="PUBLISH")
    assert "METHOD:PUBLISH\r\n" in data.decode()


def test_a_shift_entry_holds_only_the_volunteer_own_duty():
    shift = shift_entry(
        uid=shift_uid("5e0c", "vigil.example"),
        role="Steward",
        event_title="Human Rights Day",
        meeting_point="Corner of Portland Place and Weymouth Street",
        what_to_bring="Hi-vis vest",
        address="49-59 Portland Place, London W1B 1JL",
        url="https://vigil.example/events/x",
        starts_at=datetime(2030, 12, 10, 10, tzinfo=UTC),
        ends_at=datetime(2030, 12, 10, 14, tzinfo=UTC),
        timezone="Europe/London",
        sequence=0,
        updated_at=datetime(2030, 11, 1, tzinfo=UTC),
    )
    cal, vcal = parse_both(build_calendar([shift], name="My shifts"))
    (vevent,) = cal.walk("VEVENT")
    assert vevent["UID"] == "shift-5e0c@vigil.example"
    assert str(vevent["SUMMARY"]) == "Steward: Human Rights Day"
    assert "Hi-vis vest" in str(vevent["DESCRIPTION"])
    assert str(vevent["LOCATION"]).startswith("Corner of Portland Place")


# Zones whose POSIX rule is unusual: transitions at 24:00 or later, negative times,
# negative DST, half-hour DST, or changes no yearly rule describes (Ramadan).
TRICKY_ZONES = [
    "Asia/Jerusalem",
    "America/Santiago",
    "Africa/Cairo",
    "Asia/Gaza",
    "Asia/Hebron",
    "America/Nuuk",
    "America/Scoresbysund",
    "Africa/Casablanca",
    "Africa/El_Aaiun",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "Europe/London",
    "Australia/Sydney",
    "America/New_York",
    "Asia/Shanghai",
    "Pacific/Chatham",
]


@pytest.mark.parametrize("zone", TRICKY_ZONES)
def test_every_hour_of_three_years_reads_back_with_the_zones_real_offset(zone):
    """vobject interprets our VTIMEZONE itself; it must agree with the tz database."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    data = build_calendar(
        [entry(timezone=zone, starts_at=start, ends_at=datetime(2027, 1, 1, tzinfo=UTC))]
    )
    tz = vobject.readOne(data.decode()).vtimezone.gettzinfo()
    real = ZoneInfo(zone)
    moment, wrong = start, []
    while moment < datetime(2029, 1, 1, tzinfo=UTC):
        local = moment.astimezone(real)
        if local.fold == 0 and tz.utcoffset(local.replace(tzinfo=None)) != local.utcoffset():
            wrong.append(moment)
        moment += timedelta(hours=1)
    assert len(wrong) <= 2, wrong[:5]  # at most the ambiguous hour itself


def test_geo_is_written_in_plain_decimals():
    data = build_calendar([entry(latitude=51.47, longitude=-0.00001)]).decode()
    assert "GEO:51.470000;-0.000010\r\n" in data
    (vevent,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert vevent["GEO"].longitude == pytest.approx(-0.00001)


def test_an_empty_calendar_still_holds_a_component():
    data = build_calendar([], name="Nothing yet")
    cal, vcal = parse_both(data)
    assert len(cal.subcomponents) == 1
    assert vcal.vtimezone.tzid.value == "Etc/UTC"
