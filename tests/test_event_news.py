"""When an event moves, is cancelled or comes back: attendees and volunteers are told,
in words that say which, with the old time and place beside the new, and calendar
files for what they now hold."""

from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from helpers import confirmed_sign_up, sent_mail, text_body

from vigil import event_editing, rsvps
from vigil.extensions import db
from vigil.models import Event, Shift, VolunteerSignup


@pytest.fixture
def people(app, make_event, make_roles):
    """An upcoming event with one attendee and one volunteer on the leafleting shift."""
    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        rsvps.create_rsvp(stored, email="attendee@example.org")
        confirmed_sign_up(stored, email="volunteer@example.org", shift_ids=[leaflets])
        db.session.commit()
    sent_mail(app)  # what they were sent so far
    return event, leaflets


def news(app, address: str):
    return [m for m in sent_mail(app) if m["To"] == address]


def shift_events(message) -> list:
    (attachment,) = list(message.iter_attachments())
    return icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")


def test_a_move_shows_old_and_new_and_moves_the_shifts_with_it(app, people):
    event, leaflets = people
    with app.app_context():
        stored = db.session.get(Event, event.id)
        shift_start = db.session.get(Shift, leaflets).starts_at
        values = {"starts_at": stored.starts_at + timedelta(hours=2)}
        values["ends_at"] = stored.ends_at + timedelta(hours=2)
        assert event_editing.save_event(stored, values) == 2  # attendee and volunteer
        db.session.commit()
        assert db.session.get(Shift, leaflets).starts_at == shift_start + timedelta(hours=2)
    (attendee,) = news(app, "attendee@example.org")[-1:]
    assert attendee["Subject"].startswith("Changed time or place: ")
    body = text_body(attendee)
    assert "Before:" in body and "Now:" in body
    (volunteer,) = news(app, "volunteer@example.org")[-1:]
    assert volunteer["Subject"].startswith("Changed time or place: ")
    assert "Before:" in text_body(volunteer) and "Leafleting" in text_body(volunteer)
    (vevent,) = shift_events(volunteer)
    assert vevent.decoded("DTSTART") == shift_start + timedelta(hours=2)
    assert int(vevent["SEQUENCE"]) >= 2  # above what their first calendar file said


def test_shifts_can_stay_at_their_times(app, people):
    event, leaflets = people
    with app.app_context():
        stored = db.session.get(Event, event.id)
        shift_start = db.session.get(Shift, leaflets).starts_at
        values = {"starts_at": stored.starts_at - timedelta(minutes=30)}
        event_editing.save_event(stored, values, move_shifts=False)
        db.session.commit()
        assert db.session.get(Shift, leaflets).starts_at == shift_start
    (volunteer,) = news(app, "volunteer@example.org")[-1:]
    (vevent,) = shift_events(volunteer)
    assert vevent.decoded("DTSTART") == shift_start


def test_a_cancellation_strikes_the_volunteers_shifts_and_a_reinstatement_says_back_on(app, people):
    event, _ = people
    with app.app_context():
        event_editing.cancel(db.session.get(Event, event.id))
        db.session.commit()
    volunteer = news(app, "volunteer@example.org")[-1]
    assert volunteer["Subject"].startswith("Cancelled: ")
    assert "Please do not go" in text_body(volunteer)
    assert [str(v["STATUS"]) for v in shift_events(volunteer)] == ["CANCELLED"]
    with app.app_context():
        event_editing.publish(db.session.get(Event, event.id))
        db.session.commit()
    for address in ("attendee@example.org", "volunteer@example.org"):
        back = news(app, address)[-1]
        assert back["Subject"].startswith("Back on: "), address
        assert "back on" in text_body(back) and "Changed time or place" not in back["Subject"]


def test_pending_volunteers_are_not_told_what_they_never_held(app, people, make_roles):
    event, leaflets = people
    with app.app_context():
        from vigil import volunteers

        volunteers.sign_up(
            db.session.get(Event, event.id), email="asking@example.org", shift_ids=[leaflets]
        )
        db.session.commit()
        event_editing.cancel(db.session.get(Event, event.id))
        db.session.commit()
        assert db.session.query(VolunteerSignup).count() == 2
    assert [m["Subject"].split(":")[0] for m in news(app, "asking@example.org")] == [
        "Please confirm that you want to volunteer"
    ]


def test_discreet_subjects_name_the_date_not_the_title(app, make_event, make_roles):
    """A phone shows subjects on its lock screen: an event that asks for discreet
    subjects never puts its (political) title there; the body still names it."""
    event = make_event(title="Free all prisoners of conscience", capacity=5)
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        stored.discreet_subjects = True
        db.session.commit()
        rsvps.create_rsvp(stored, email="attendee@example.org")
        confirmed_sign_up(stored, email="volunteer@example.org", shift_ids=[leaflets])
        event_editing.cancel(db.session.get(Event, event.id))
        db.session.commit()
    mails = sent_mail(app)
    assert len(mails) == 4  # asked to confirm; the volunteer asked, thanked, then told
    for message in mails:
        assert "prisoners" not in message["Subject"], message["Subject"]
        assert "your event on " in message["Subject"]
        assert "Free all prisoners of conscience" in text_body(message)
    assert {m["Subject"].split(":")[0] for m in mails} == {
        "Please confirm your RSVP",
        "Please confirm that you want to volunteer",
        "Thank you for volunteering",
        "Cancelled",
    }


def test_the_organiser_form_and_event_files_set_discreet_subjects(app, tmp_path, runner):
    from vigil.models import Event as Stored

    text = (Path(__file__).parent.parent / "vigil/data/human-rights-day-2017.toml").read_text()
    path = tmp_path / "events.toml"
    path.write_text(
        text.replace('status = "published"', 'status = "published"\ndiscreet_subjects = true', 1)
    )
    assert runner.invoke(args=["events", "import", str(path)]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(db.select(Stored.discreet_subjects)) is True
