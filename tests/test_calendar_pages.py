"""Calendar downloads and the subscription feed over HTTP: headers, 304s, what is included."""

import re
from datetime import UTC, datetime, timedelta

import icalendar
import vobject
from helpers import sent_mail

from vigil import rsvps
from vigil.event_changes import update_event
from vigil.extensions import db
from vigil.models import Event, EventStatus


def vevents(data: bytes) -> dict[str, icalendar.Event]:
    """Every file is read by two independent parsers; icalendar's reading is returned."""
    events = {str(v["SUMMARY"]): v for v in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    read_by_vobject = vobject.readOne(text)
    assert sorted(v.summary.value for v in read_by_vobject.contents.get("vevent", [])) == sorted(
        events
    )
    return events


def test_event_download_headers(client, make_event):
    event = make_event()
    response = client.get(f"/events/{event.slug}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{event.slug}.ics"'
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert "Content-Encoding" not in response.headers
    assert list(vevents(response.data)) == [event.title]


def test_conditional_requests_get_304_and_a_change_gets_new_bytes(app, client, make_event):
    event = make_event()
    first = client.get(f"/events/{event.slug}.ics")
    etag = first.headers["ETag"]
    again = client.get(f"/events/{event.slug}.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    since = client.get(
        f"/events/{event.slug}.ics", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert since.status_code == 304
    assert client.get(f"/events/{event.slug}.ics").data == first.data  # same bytes every time
    with app.app_context():
        stored = db.session.get(Event, event.id)
        update_event(
            stored,
            {
                "starts_at": stored.starts_at + timedelta(hours=1),
                "ends_at": stored.ends_at + timedelta(hours=1),
            },
        )
        db.session.commit()
    changed = client.get(f"/events/{event.slug}.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    (vevent,) = vevents(changed.data).values()
    assert vevent["SEQUENCE"] == 1


def test_feed_carries_public_events_only(client, make_event):
    now = datetime.now(UTC).replace(microsecond=0)
    upcoming = make_event(title="Upcoming")
    recent = make_event(title="Recent", starts_at=now - timedelta(days=10))
    make_event(title="Long ago", starts_at=now - timedelta(days=40))
    make_event(title="Draft", status=EventStatus.DRAFT)
    make_event(title="Cancelled soon", status=EventStatus.CANCELLED, sequence=1)
    make_event(
        title="Cancelled and past", status=EventStatus.CANCELLED, starts_at=now - timedelta(days=3)
    )
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Content-Disposition" not in response.headers
    found = vevents(response.data)
    assert set(found) == {upcoming.title, recent.title, "CANCELLED: Cancelled soon"}
    assert found["CANCELLED: Cancelled soon"]["STATUS"] == "CANCELLED"
    text = response.data.decode()
    assert "X-WR-CALNAME:Vigil\r\n" in text and "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    # Leaving the feed makes no newer timestamp, so the feed is validated by ETag only.
    assert "Last-Modified" not in response.headers


def test_feed_304_and_etag_follow_changes(app, client, make_event):
    event = make_event()
    first = client.get("/calendar.ics")
    etag = first.headers["ETag"]
    assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
    make_event(title="Another")
    assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 200
    etag = client.get("/calendar.ics").headers["ETag"]
    with app.app_context():
        db.session.get(Event, event.id).status = EventStatus.DRAFT  # unpublished
        db.session.commit()
    response = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert event.title not in vevents(response.data)


def test_uid_is_the_same_in_download_feed_and_email(app, client, make_event):
    event = make_event()
    download = vevents(client.get(f"/events/{event.slug}.ics").data)[event.title]
    feed = vevents(client.get("/calendar.ics").data)[event.title]
    with app.app_context():
        rsvps.create_rsvp(db.session.get(Event, event.id), email="uid@example.org")
        db.session.commit()
    (msg,) = sent_mail(app)
    (attachment,) = list(msg.iter_attachments())
    emailed = vevents(attachment.get_content())[event.title]
    assert str(download["UID"]) == str(feed["UID"]) == str(emailed["UID"])
    assert str(download["UID"]) == f"event-{event.uuid}@vigil.test"


def test_drafts_and_unknown_events_have_no_calendar_file(client, make_event):
    draft = make_event(status=EventStatus.DRAFT)
    assert client.get(f"/events/{draft.slug}.ics").status_code == 404
    assert client.get("/events/nope.ics").status_code == 404
    assert client.get("/events/%00.ics").status_code == 404


def test_event_page_offers_download_subscription_and_google(client, make_event):
    event = make_event()
    html = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert f'href="/events/{event.slug}.ics"' in html
    assert 'href="webcal://vigil.test/calendar.ics"' in html
    assert 'value="http://vigil.test/calendar.ics"' in html
    google = re.search(r'href="(https://calendar\.google\.com/calendar/render\?[^"]+)"', html)
    assert google and "action=TEMPLATE" in google.group(1)
    assert "does not change" in html and "updates itself" in html
    # The page itself loads nothing from Google: the link is only followed when clicked.
    assert not re.search(r'(src|srcset)="https?://', html)


def test_any_stored_change_gives_the_feed_a_new_etag(app, client, make_event):
    event = make_event()
    etag = client.get("/calendar.ics").headers["ETag"]
    with app.app_context():
        stored = db.session.get(Event, event.id)
        stored.updated_at = stored.updated_at  # no change: no new revision, same ETag
        db.session.commit()
    assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
    with app.app_context():
        db.session.get(Event, event.id).summary = "Bring candles; it gets dark early."
        db.session.commit()
    response = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Bring candles\\; it gets dark early." in response.data.decode()


def test_personal_feed_responses_are_private_and_not_indexed(app):
    """The response helper the volunteer feed uses (its route comes with volunteers)."""
    from vigil.pages.calendars import calendar_response

    @app.get("/test-personal.ics")
    def personal():
        return calendar_response(
            "abc", None, lambda: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", personal=True
        )

    client = app.test_client()
    response = client.get("/test-personal.ics", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert "Content-Disposition" not in response.headers
    assert "Content-Encoding" not in response.headers
    assert client.get("/test-personal.ics", headers={"If-None-Match": '"abc"'}).status_code == 304


def test_calendar_responses_are_never_compressed(client, make_event):
    event = make_event()
    for url in (f"/events/{event.slug}.ics", "/calendar.ics"):
        response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
        assert "Content-Encoding" not in response.headers
        assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")


def test_a_download_can_carry_a_reminder_and_one_event_can_be_subscribed_to(client, make_event):
    """A VALARM only when asked for (an hour or a day before), and a webcal:// link to
    the one event's file, which follows its changes."""
    event = make_event()
    plain = client.get(f"/events/{event.slug}.ics")
    assert b"BEGIN:VALARM" not in plain.data
    for minutes, trigger in ((60, "-PT1H"), (1440, "-P1D")):
        with_alarm = client.get(f"/events/{event.slug}.ics?alarm={minutes}")
        cal = icalendar.Calendar.from_ical(with_alarm.data)
        (alarm,) = cal.walk("VALARM")
        assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].to_ical().decode() == trigger
        assert with_alarm.headers["ETag"] != plain.headers["ETag"]
    odd = client.get(f"/events/{event.slug}.ics?alarm=7")
    assert odd.status_code == 200 and b"BEGIN:VALARM" not in odd.data
    page = client.get(f"/events/{event.slug}").text
    assert f'href="webcal://vigil.test/events/{event.slug}.ics"' in page
    assert f'href="/events/{event.slug}.ics?alarm=60"' in page
