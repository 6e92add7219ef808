"""Places held only for confirmed addresses: a flood of made-up addresses expires and
the waitlist moves up; a real person confirms with one press on their private page."""

from datetime import timedelta

from helpers import csrf_token, manage_link, sent_mail, submit, text_body
from sqlalchemy import select

from vigil import rsvps
from vigil.events import needs_email_confirmation
from vigil.extensions import db
from vigil.models import Event, OutboxMessage, Rsvp, RsvpStatus, utcnow


def rsvp(client, event, email):
    url = f"/events/{event.slug}"
    return submit(client, url, f"{url}/rsvp", {"email": email, "guests": "0", "consent": "y"})


def test_it_is_on_by_default_only_where_places_are_limited(ctx, make_event):
    made = [
        make_event(capacity=10),
        make_event(),
        make_event(capacity=10, confirm_by_email=False),
        make_event(confirm_by_email=True),
    ]
    answers = [needs_email_confirmation(db.session.get(Event, e.id)) for e in made]
    assert answers == [True, False, False, True]


def test_a_person_confirms_from_the_link_in_their_email(app, client, make_event):
    event = make_event(capacity=10)
    done = client.get(rsvp(client, event, "ada@example.org").headers["Location"])
    assert "confirm within 24 hours" in done.get_data(as_text=True)
    (message,) = sent_mail(app)
    assert "Please confirm your RSVP" in text_body(message)
    link = manage_link(message)
    page = client.get(link).get_data(as_text=True)
    assert "Confirm your RSVP" in page and "We hold your place until" in page
    response = client.post(link, data={"csrf_token": csrf_token(page), "action": "confirm"})
    assert response.status_code == 303
    after = client.get(link).get_data(as_text=True)
    assert "Thank you: your RSVP is confirmed." in after and "Confirm your RSVP" not in after
    with app.app_context():
        assert db.session.scalars(select(Rsvp.confirm_by)).one() is None
        # released later? no: it is confirmed
        assert rsvps.expire_unconfirmed(utcnow() + timedelta(days=2)) == 0


def test_unconfirmed_rsvps_expire_and_the_waitlist_moves_up(app, client, make_event):
    event = make_event(capacity=2)
    for address in ("fake1@example.org", "fake2@example.org", "real@example.org"):
        rsvp(client, event, address)
    with app.app_context():
        statuses = dict(db.session.execute(select(Rsvp.email_key, Rsvp.status)).all())
        assert sorted(statuses.values()) == ["confirmed", "confirmed", "waitlisted"]
        # the real person confirms while waiting; the two fakes never do
        real = next(r for r in db.session.scalars(select(Rsvp)) if r.email == "real@example.org")
        rsvps.confirm_rsvp(real)
        db.session.commit()
        released = rsvps.expire_unconfirmed(utcnow() + timedelta(hours=25))
        db.session.commit()
        assert released == 2
        left = db.session.scalars(select(Rsvp)).all()
        assert [(r.email, r.status) for r in left] == [("real@example.org", "confirmed")]
        kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert kinds[-1] == "rsvp_promoted"  # the waitlisted person is told they have a place
        # nothing of the fakes is kept, not even their emails
        assert len(kinds) == 2  # real's "waitlisted" email and their promotion


def test_nothing_expires_before_its_time_and_check_in_counts_as_confirmation(
    app, make_event, make_rsvp
):
    event = make_event(capacity=5)
    soon = utcnow() + timedelta(hours=1)
    waiting, _ = make_rsvp(event, confirm_by=soon)
    here, _ = make_rsvp(event, confirm_by=soon)
    with app.app_context():
        from vigil.attendees import set_checked_in

        set_checked_in(db.session.get(Rsvp, here.id), True)
        db.session.commit()
        assert rsvps.expire_unconfirmed() == 0
        assert rsvps.expire_unconfirmed(soon + timedelta(seconds=1)) == 1
        db.session.commit()
        assert [r.id for r in db.session.scalars(select(Rsvp))] == [here.id]


def test_the_deadline_never_passes_the_end_of_the_event(ctx, make_event):
    start = utcnow() + timedelta(hours=3)
    event = db.session.get(
        Event, make_event(capacity=5, starts_at=start, ends_at=start + timedelta(hours=1)).id
    )
    result = rsvps.create_rsvp(event, email="late@example.org")
    assert result.rsvp.confirm_by == event.ends_at
    assert result.rsvp.status == RsvpStatus.CONFIRMED


def test_the_worker_releases_unconfirmed_rsvps(app, make_event, make_rsvp):
    import threading

    from vigil.worker import run_worker

    event = make_event(capacity=5)
    make_rsvp(event, confirm_by=utcnow() - timedelta(minutes=1))
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    with app.app_context():
        run_worker(stop, 0.05)
        assert db.session.scalars(select(Rsvp)).all() == []


def test_organisers_see_who_has_not_confirmed(app, make_event, make_rsvp, make_organiser):
    from helpers import login

    event = make_event(capacity=5)
    make_rsvp(event, confirm_by=utcnow() + timedelta(hours=5))
    client = app.test_client()
    login(client, make_organiser("organiser", [event]))
    html = client.get(f"/organiser/events/{event.slug}/attendees").get_data(as_text=True)
    assert "email not confirmed yet" in html
