"""Messages to attendees: event changes, cancellation, reminders, organiser messages."""

from datetime import UTC, datetime, timedelta

import icalendar
from helpers import manage_link, sent_mail, text_body
from sqlalchemy import func, select

from vigil import attendees, rsvps
from vigil.event_changes import update_event
from vigil.extensions import db
from vigil.models import Event, OutboxMessage, Rsvp, RsvpStatus


def setup_event(make_event, make_rsvp, **kw):
    event = make_event(capacity=2, **kw)
    make_rsvp(event, email="confirmed@example.org", wants_updates=True)
    make_rsvp(event, email="quiet@example.org", wants_updates=False)
    make_rsvp(event, email="waiting@example.org", status=RsvpStatus.WAITLISTED, wants_updates=True)
    make_rsvp(event, email="gone@example.org", status=RsvpStatus.CANCELLED, wants_updates=True)
    return event


def calendar_of(msg) -> icalendar.Calendar:
    (attachment,) = list(msg.iter_attachments())
    return icalendar.Calendar.from_ical(attachment.get_content())


def test_moving_an_event_tells_every_active_rsvp_with_an_updated_calendar(
    ctx, app, make_event, make_rsvp
):
    event = setup_event(make_event, make_rsvp)
    stored = db.session.get(Event, event.id)
    new_start = stored.starts_at + timedelta(hours=1)
    result = update_event(
        stored, {"starts_at": new_start, "ends_at": new_start + timedelta(hours=2)}
    )
    db.session.commit()
    assert result.notified == 3
    mails = sent_mail(app)
    assert sorted(m["To"] for m in mails) == [
        "confirmed@example.org",
        "quiet@example.org",
        "waiting@example.org",
    ]
    msg = mails[0]
    assert msg["Subject"] == f"Changed time or place: {event.title}"
    (vevent,) = calendar_of(msg).walk("VEVENT")
    assert vevent["SEQUENCE"] == 1
    assert vevent.decoded("DTSTART") == new_start
    assert str(vevent["UID"]).startswith(f"event-{event.uuid}@")
    # Telling them again about the same version of the event sends nothing more.
    assert attendees.notify_event_changed(stored) == 0
    db.session.commit()
    assert len(sent_mail(app)) == 3


def test_a_change_that_does_not_move_the_event_tells_nobody(ctx, app, make_event, make_rsvp):
    event = setup_event(make_event, make_rsvp)
    update_event(db.session.get(Event, event.id), {"summary": "Bring candles."})
    db.session.commit()
    assert sent_mail(app) == []


def test_cancelling_an_event_sends_a_cancelled_calendar(ctx, app, make_event, make_rsvp):
    event = setup_event(make_event, make_rsvp)
    result = update_event(db.session.get(Event, event.id), {"status": "cancelled"})
    db.session.commit()
    assert result.notified == 3
    msg = sent_mail(app)[0]
    assert msg["Subject"] == f"Cancelled: {event.title}"
    (vevent,) = calendar_of(msg).walk("VEVENT")
    assert vevent["STATUS"] == "CANCELLED"
    assert vevent["SEQUENCE"] == 1
    assert str(vevent["SUMMARY"]).startswith("CANCELLED: ")


def test_cancel_reinstate_cancel_tells_attendees_each_time(ctx, app, make_event, make_rsvp):
    event = make_event()
    make_rsvp(event, email="loyal@example.org")
    stored = db.session.get(Event, event.id)
    assert update_event(stored, {"status": "cancelled"}).notified == 1
    db.session.commit()
    back = update_event(stored, {"status": "published"})
    db.session.commit()
    assert back.notified == 1 and stored.sequence == 2
    assert update_event(stored, {"status": "cancelled"}).notified == 1
    db.session.commit()
    subjects = [m["Subject"].split(":")[0] for m in sent_mail(app)]
    assert subjects == ["Cancelled", "Back on", "Cancelled"]  # not "changed time or place"
    reinstated = calendar_of(sent_mail(app)[1])
    (vevent,) = reinstated.walk("VEVENT")
    assert vevent["STATUS"] == "CONFIRMED" and vevent["SEQUENCE"] == 2


def test_reminders_go_once_to_confirmed_rsvps_of_events_within_the_window(
    ctx, app, runner, make_event, make_rsvp
):
    soon = setup_event(
        make_event,
        make_rsvp,
        starts_at=(datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0),
    )
    later = make_event(starts_at=datetime.now(UTC) + timedelta(days=3))
    make_rsvp(later, email="later@example.org")
    first = runner.invoke(args=["mail", "send-reminders"])
    assert first.output.splitlines()[0] == "reminders queued: 2"
    again = runner.invoke(args=["mail", "send-reminders"])
    assert again.output.splitlines()[0] == "reminders queued: 0"
    mails = sent_mail(app)
    assert sorted(m["To"] for m in mails) == ["confirmed@example.org", "quiet@example.org"]
    assert mails[0]["Subject"] == f"Reminder: {soon.title}"
    wider = runner.invoke(args=["mail", "send-reminders", "--hours", "96"])
    assert (
        wider.output.splitlines()[0] == "reminders queued: 1"
    )  # only the later event's one person


def test_organiser_message_goes_to_the_chosen_audience_with_their_own_link(
    ctx, app, make_event, make_rsvp
):
    event = setup_event(make_event, make_rsvp)
    stored = db.session.get(Event, event.id)
    count = attendees.message_attendees(
        stored,
        subject="Bring a candle",
        body="Line one.\n\nLine two <b>bold</b>.",
        audience=attendees.Audience.UPDATES,
        message_key="m1",
    )
    db.session.commit()
    assert count == 2  # confirmed and waitlisted people who asked for updates
    mails = sent_mail(app)
    assert sorted(m["To"] for m in mails) == ["confirmed@example.org", "waiting@example.org"]
    msg = mails[0]
    assert msg["Subject"] == "Bring a candle"
    link = manage_link(msg)
    # The unsubscribe link can only stop updates (RFC 8058 one-click), never manage.
    unsubscribe = str(msg["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<http://vigil.test/unsubscribe/") and link not in unsubscribe
    assert str(msg["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    assert "Line two <b>bold</b>." in text_body(msg)
    assert "To stop updates like this one" in text_body(msg)  # they asked for updates
    html = msg.get_body(("html",)).get_content()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert app.test_client().get(link).status_code == 200
    # The same form posted again sends nothing more.
    attendees.message_attendees(
        stored,
        subject="Bring a candle",
        body="x",
        audience=attendees.Audience.UPDATES,
        message_key="m1",
    )
    db.session.commit()
    assert len(sent_mail(app)) == 2
    everyone = attendees.message_attendees(
        stored,
        subject="Essential",
        body="x",
        audience=attendees.Audience.CONFIRMED,
        message_key="m2",
    )
    db.session.commit()
    assert everyone == 2
    essential = [m for m in sent_mail(app) if m["Subject"] == "Essential"]
    assert all(m["List-Unsubscribe"] is None for m in essential)
    # Essential news comes whatever they chose: no footer saying unticking stops it.
    assert not any("To stop updates" in text_body(m) for m in essential)


def test_one_click_unsubscribe_stops_updates_and_nothing_else(ctx, app, make_event, make_rsvp):
    event = setup_event(make_event, make_rsvp)
    stored = db.session.get(Event, event.id)
    attendees.message_attendees(
        stored, subject="News", body="x", audience=attendees.Audience.UPDATES, message_key="u1"
    )
    db.session.commit()
    msg = next(m for m in sent_mail(app) if m["To"] == "confirmed@example.org")
    path = str(msg["List-Unsubscribe"]).strip()[1:-1].removeprefix("http://vigil.test")
    token = path.rsplit("/", 1)[1]
    client = app.test_client()
    assert client.get(f"/rsvp/{token}").status_code == 404  # it opens no RSVP
    assert client.post(path).status_code == 400  # a browser form needs its form token
    page = client.get(path)
    assert page.status_code == 200 and "Stop updates" in page.text
    # What a mail provider sends (RFC 8058): no cookie, no form token.
    done = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 204
    db.session.expire_all()
    rows = {r.email: r for r in db.session.scalars(select(Rsvp))}
    assert rows["confirmed@example.org"].wants_updates is False
    assert rows["confirmed@example.org"].status == "confirmed"  # nothing else changed
    assert "no more occasional updates" in client.get(path).text
    assert client.get(path[:-3] + "xyz").status_code == 404  # a forged link


def test_erasing_cancels_unsent_email_to_that_person(ctx, app, make_event):
    event = make_event()
    result = rsvps.create_rsvp(db.session.get(Event, event.id), email="erase.me@example.org")
    db.session.commit()
    rsvps.erase_rsvp(db.session.get(Rsvp, result.rsvp.id))
    db.session.commit()
    assert sent_mail(app) == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_erasing_removes_sent_messages_and_their_file_copies(ctx, app, make_event):
    from helpers import mail_dir

    event = make_event()
    keep = rsvps.create_rsvp(db.session.get(Event, event.id), email="keep@example.org")
    gone = rsvps.create_rsvp(db.session.get(Event, event.id), email="erase.me@example.org")
    db.session.commit()
    assert len(sent_mail(app)) == 2
    rsvps.erase_rsvp(db.session.get(Rsvp, gone.rsvp.id))
    db.session.commit()
    files = [p.read_text() for p in mail_dir(app).glob("*.eml")]
    assert len(files) == 1 and "keep@example.org" in files[0]
    assert not any("erase.me" in f for f in files)
    remaining = db.session.scalars(select(OutboxMessage.rsvp_id)).all()
    assert remaining == [keep.rsvp.id]


def test_an_erased_rsvp_id_never_silences_the_next_person(ctx, app, make_event):
    """Ids are never reused, so a new RSVP cannot collide with an erased one's emails."""
    event = make_event()
    first = rsvps.create_rsvp(db.session.get(Event, event.id), email="first@example.org")
    db.session.commit()
    sent_mail(app)
    rsvps.erase_rsvp(db.session.get(Rsvp, first.rsvp.id))
    db.session.commit()
    second = rsvps.create_rsvp(db.session.get(Event, event.id), email="second@example.org")
    db.session.commit()
    assert second.rsvp.id != first.rsvp.id
    assert [m["To"] for m in sent_mail(app)] == ["second@example.org"]


def test_every_message_kind_has_a_working_manage_link(ctx, app, make_event):
    event = make_event(capacity=1)
    first = rsvps.create_rsvp(db.session.get(Event, event.id), email="a@example.org").rsvp
    second = rsvps.create_rsvp(db.session.get(Event, event.id), email="b@example.org").rsvp
    db.session.commit()
    for person in (first, second):
        rsvps.confirm_rsvp(db.session.get(Rsvp, person.id))
        db.session.commit()
    rsvps.cancel_rsvp(db.session.get(Rsvp, first.id))
    db.session.commit()
    client = app.test_client()
    mails = sent_mail(app)
    kinds = {m["Subject"].split(":")[0] for m in mails}
    assert kinds == {
        "Please confirm your RSVP",
        "You have a place",
        "You are on the waitlist",
        "Your RSVP has been cancelled",
        "A place has opened up for you",
    }
    for msg in mails:
        assert client.get(manage_link(msg)).status_code == 200, msg["Subject"]
