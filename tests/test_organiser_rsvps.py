"""Organisers add walk-ups, cancel RSVPs and move people off the waitlist by hand."""

from datetime import timedelta

import pytest
from helpers import audited, csrf_token

from vigil import rsvps
from vigil.errors import AddressTaken, InvalidState, NotEnoughPlaces, RsvpLocked
from vigil.extensions import db
from vigil.models import Event, EventStatus, OutboxMessage, Rsvp, RsvpStatus
from vigil.models import utcnow as now


def rows(app, event) -> list[Rsvp]:
    with app.app_context():
        found = db.session.scalars(
            db.select(Rsvp).where(Rsvp.event_id == event.id).order_by(Rsvp.id)
        ).all()
        for rsvp in found:
            db.session.expunge(rsvp)
        return found


def kinds(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(OutboxMessage.kind)))


def audit_actions(app) -> list[tuple]:
    return audited(app)


def test_a_walk_up_without_an_address_is_added_and_checked_in(app, make_event, signed_in):
    event = make_event(rsvp_closes_at=now() - timedelta(hours=1))  # RSVPs closed: walk-ups still
    client = signed_in("organiser", [event])
    url = f"/organiser/events/{event.slug}/walk-up"
    page = client.get(url).get_data(as_text=True)
    assert '<input checked id="check_in" name="check_in"' in page
    response = client.post(
        url, data={"csrf_token": csrf_token(page), "name": "Wei", "guests": "1", "check_in": "y"}
    )
    assert response.status_code == 303
    assert "Added and checked in." in client.get(url).get_data(as_text=True)
    (rsvp,) = rows(app, event)
    assert (rsvp.name, rsvp.email, rsvp.guests, rsvp.status) == ("Wei", None, 1, "confirmed")
    assert rsvp.checked_in_at is not None and rsvp.checkin_code
    assert kinds(app) == []  # nobody to email
    assert audit_actions(app) == [("add rsvp", 1)]
    listing = client.get(f"/organiser/events/{event.slug}/attendees").get_data(as_text=True)
    assert "Wei" in listing and "None" not in listing


def test_a_walk_up_with_an_address_is_emailed_and_a_known_address_is_refused(
    app, make_event, make_rsvp, signed_in
):
    event = make_event()
    make_rsvp(event, email="known@example.org")
    client = signed_in("organiser", [event])
    url = f"/organiser/events/{event.slug}/walk-up"
    token = csrf_token(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "name": "Ling", "email": "new@example.org", "guests": "0"}
    assert client.post(url, data=data).status_code == 303
    assert kinds(app) == ["rsvp_confirmed"]
    refused = client.post(url, data={**data, "email": "KNOWN@example.org"})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "That address has an RSVP for this event already" in html
    assert 'value="Ling"' in html  # what was typed is kept
    bad = client.post(url, data={**data, "email": "not an address", "guests": "-1"})
    assert bad.status_code == 422
    assert "valid email address" in bad.get_data(as_text=True)
    assert len(rows(app, event)) == 2


def test_a_walk_up_who_does_not_fit_is_waitlisted_and_not_checked_in(
    app, make_event, make_rsvp, signed_in
):
    event = make_event(capacity=1)
    make_rsvp(event)
    client = signed_in("organiser", [event])
    url = f"/organiser/events/{event.slug}/walk-up"
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert (
        client.post(url, data={"csrf_token": token, "guests": "0", "check_in": "y"}).status_code
        == 303
    )
    assert "Added to the waitlist" in client.get(url).get_data(as_text=True)
    walk_up = rows(app, event)[-1]
    assert walk_up.status == RsvpStatus.WAITLISTED and walk_up.checked_in_at is None


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_nobody_is_added_to_an_event_that_is_not_on(ctx, make_event, status):
    event = db.session.get(Event, make_event(status=status).id)
    with pytest.raises(RsvpLocked):
        rsvps.add_walk_up(event, email=None)


def test_an_ended_event_takes_no_walk_ups(ctx, make_event):
    start = now() - timedelta(hours=3)
    event = db.session.get(
        Event, make_event(starts_at=start, ends_at=start + timedelta(hours=1)).id
    )
    with pytest.raises(RsvpLocked):
        rsvps.add_walk_up(event, email="late@example.org")


def test_two_walk_ups_without_an_address_are_two_people(ctx, make_event):
    event = db.session.get(Event, make_event().id)
    first = rsvps.add_walk_up(event, email=None, name="A")
    second = rsvps.add_walk_up(event, email=None, name="B")
    db.session.commit()
    assert first.id != second.id and first.checkin_code != second.checkin_code
    rsvps.add_walk_up(event, email="x@example.org")
    with pytest.raises(AddressTaken):
        rsvps.add_walk_up(event, email="X@Example.org")


def test_cancelling_by_hand_asks_then_frees_the_place_for_the_waitlist(
    app, make_event, make_rsvp, signed_in
):
    event = make_event(capacity=1)
    placed, _ = make_rsvp(event, name="Placed")
    waiting, _ = make_rsvp(event, status=RsvpStatus.WAITLISTED)
    client = signed_in("organiser", [event])
    url = f"/organiser/rsvps/{placed.id}/cancel"
    page = client.get(url).get_data(as_text=True)
    assert "Placed" in page and "They will be emailed" in page
    assert rows(app, event)[0].status == RsvpStatus.CONFIRMED  # asking changes nothing
    response = client.post(url, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organiser/events/{event.slug}/attendees")
    statuses = [r.status for r in rows(app, event)]
    assert statuses == [RsvpStatus.CANCELLED, RsvpStatus.CONFIRMED]
    assert kinds(app) == ["rsvp_cancelled", "rsvp_promoted"]
    assert audit_actions(app) == [("cancel rsvp", 1)]
    again = client.post(url, data={"csrf_token": csrf_token(page)})
    assert again.status_code == 409
    assert "already cancelled" in again.get_data(as_text=True)


def test_an_organisers_cancellation_says_so_and_cannot_be_undone_by_the_person(
    app, make_event, make_rsvp, signed_in
):
    from helpers import sent_mail, submit, text_body

    event = make_event(capacity=5)
    placed, token = make_rsvp(event, email="placed@example.org")
    client = signed_in("organiser", [event])
    url = f"/organiser/rsvps/{placed.id}/cancel"
    page = client.get(url).text
    assert "They cannot undo it themselves" in page
    client.post(url, data={"csrf_token": csrf_token(page)})
    (told,) = sent_mail(app)
    assert told["Subject"].startswith("The organisers cancelled your RSVP: ")
    body = text_body(told)
    assert "The organisers of this event have cancelled your RSVP" in body
    assert "undo" not in body
    person = app.test_client()
    link = f"/rsvp/{token}"
    own_page = person.get(link).text
    assert "The organisers have cancelled this RSVP." in own_page
    assert "Undo cancellation" not in own_page
    refused = submit(person, link, link, {"action": "restore"})  # sent by hand anyway
    assert refused.status_code == 409 and "cannot be undone here" in refused.text
    assert rows(app, event)[0].status == RsvpStatus.CANCELLED


def test_moving_one_off_the_waitlist_needs_room(app, make_event, make_rsvp, signed_in):
    event = make_event(capacity=2)
    make_rsvp(event)
    big, _ = make_rsvp(event, status=RsvpStatus.WAITLISTED, guests=1)
    small, _ = make_rsvp(event, status=RsvpStatus.WAITLISTED)
    client = signed_in("organiser", [event])
    listing = f"/organiser/events/{event.slug}/attendees"
    token = csrf_token(client.get(listing).get_data(as_text=True))
    refused = client.post(f"/organiser/rsvps/{big.id}/promote", data={"csrf_token": token})
    assert refused.status_code == 303
    assert "Raise the event&#39;s capacity first." in client.get(listing).get_data(as_text=True)
    # out of turn: the smaller RSVP fits and goes ahead
    assert (
        client.post(f"/organiser/rsvps/{small.id}/promote", data={"csrf_token": token}).status_code
        == 303
    )
    statuses = {r.id: r.status for r in rows(app, event)}
    assert statuses[small.id] == RsvpStatus.CONFIRMED
    assert statuses[big.id] == RsvpStatus.WAITLISTED
    assert kinds(app) == ["rsvp_promoted"]
    assert audit_actions(app)[-1] == ("promote rsvp", 1)


def test_promoting_a_confirmed_rsvp_or_one_without_room_is_refused(ctx, make_event, make_rsvp):
    event, full = make_event(), make_event(capacity=0)
    rsvp, _ = make_rsvp(event)
    waiting, _ = make_rsvp(full, status=RsvpStatus.WAITLISTED)
    with pytest.raises(InvalidState, match="Only a waitlisted RSVP"):
        rsvps.promote_rsvp(db.session.get(Rsvp, rsvp.id))
    db.session.rollback()
    with pytest.raises(NotEnoughPlaces):
        rsvps.promote_rsvp(db.session.get(Rsvp, waiting.id))


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("steward", 403), ("other", 404)])
def test_changing_rsvps_by_hand_is_refused_outside_ones_role_and_events(
    app, make_event, make_rsvp, accounts_for, visitor, who, expected
):
    event = make_event(capacity=5)
    rsvp, _ = make_rsvp(event)
    waiting, _ = make_rsvp(event, status=RsvpStatus.WAITLISTED)
    client, token = visitor(accounts_for(event).get(who))
    posts = {
        f"/organiser/events/{event.slug}/walk-up": {"guests": "0"},
        f"/organiser/rsvps/{rsvp.id}/cancel": {},
        f"/organiser/rsvps/{waiting.id}/promote": {},
    }
    for path, data in posts.items():
        assert client.post(path, data={"csrf_token": token, **data}).status_code == expected, path
    assert [r.status for r in rows(app, event)] == [RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED]
