"""RSVP rules, called directly: places, the waitlist, repeats, changes and erasure."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from helpers import manage_link, sent_mail
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from vigil import people, rsvps
from vigil.errors import InvalidState, NotEnoughPlaces, RsvpLocked, RsvpsClosed
from vigil.extensions import db
from vigil.models import Event, EventStatus, Rsvp, RsvpStatus
from vigil.people import email_lookup
from vigil.tokens import hash_token


def load(event) -> Event:
    return db.session.get(Event, event.id)


def rsvp_for(event, address, **kw):
    """An RSVP as a person makes it: sent, then, where places are limited, confirmed
    from their mailbox. A new RSVP's result carries the status confirming gave it."""
    result = rsvps.create_rsvp(load(event), email=address, **kw)
    db.session.commit()
    if result.was_new and result.status == RsvpStatus.PENDING:
        status = rsvps.confirm_rsvp(db.session.get(Rsvp, result.rsvp.id), now=kw.get("now"))
        db.session.commit()
        return dataclasses.replace(result, status=status)
    return result


def statuses(event) -> dict[str, str]:
    rows = db.session.scalars(select(Rsvp).where(Rsvp.event_id == event.id))
    return {r.email: r.status for r in rows}


def test_rsvp_is_confirmed_while_places_last_then_waitlisted(ctx, make_event):
    event = make_event(capacity=3)
    assert rsvp_for(event, "a@example.org", guests=1).status == RsvpStatus.CONFIRMED
    assert rsvp_for(event, "b@example.org").status == RsvpStatus.CONFIRMED
    # The event is full: three places taken (a + guest, b).
    assert rsvp_for(event, "c@example.org").status == RsvpStatus.WAITLISTED
    assert statuses(event) == {
        "a@example.org": "confirmed",
        "b@example.org": "confirmed",
        "c@example.org": "waitlisted",
    }


def test_a_group_that_does_not_fit_is_waitlisted_whole(ctx, make_event):
    event = make_event(capacity=3)
    rsvp_for(event, "a@example.org", guests=1)
    assert rsvp_for(event, "group@example.org", guests=2).status == RsvpStatus.WAITLISTED
    assert rsvp_for(event, "single@example.org").status == RsvpStatus.CONFIRMED


def test_without_capacity_everyone_gets_a_place(ctx, make_event):
    event = make_event(capacity=None)
    for i in range(20):
        assert rsvp_for(event, f"p{i}@example.org", guests=4).status == RsvpStatus.CONFIRMED


def test_rsvp_stores_only_what_was_given_and_a_token_hash(ctx, app, make_event):
    event = make_event()
    result = rsvp_for(
        event,
        "  Ada@Example.ORG ",
        name=" Ada ",
        guests=2,
        accessibility="Step-free",
        wants_updates=True,
    )
    rsvp = db.session.get(Rsvp, result.rsvp.id)
    assert (rsvp.email, rsvp.email_key, rsvp.name, rsvp.guests) == (
        "Ada@Example.ORG",
        email_lookup("ada@example.org"),  # a keyed hash of the normalised address
        "Ada",
        2,
    )
    assert rsvp.accessibility == "Step-free" and rsvp.wants_updates is True
    columns = set(Rsvp.__table__.columns.keys())
    assert not columns & {"ip", "ip_address", "user_agent", "token"}
    (msg,) = sent_mail(app)
    token = manage_link(msg).rsplit("/", 1)[1]
    assert len(token) >= 43  # at least 256 bits, URL-safe
    assert [t.token_hash for t in rsvp.tokens] == [hash_token(token)]


def test_confirmation_email_tells_the_outcome_and_carries_the_manage_link(ctx, app, make_event):
    event = make_event(capacity=1)
    rsvp_for(event, "first@example.org")
    rsvp_for(event, "second@example.org")
    asked, first, asked_second, second = sent_mail(app)
    assert asked["Subject"] == f"Please confirm your RSVP: {event.title}"
    assert asked["To"] == first["To"] == "first@example.org"
    assert first["Subject"] == f"You have a place: {event.title}"
    assert second["Subject"] == f"You are on the waitlist: {event.title}"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first.get_body(preferencelist=("html",)) is not None
    assert manage_link(first) != manage_link(second)


def test_same_address_again_changes_nothing_but_sends_a_fresh_link(ctx, app, make_event):
    event = make_event(capacity=5)
    first = rsvp_for(event, "ada@example.org", name="Ada", guests=1)
    before = db.session.get(Rsvp, first.rsvp.id)
    snapshot = (before.name, before.guests, before.status, before.created_at)
    _asked, confirmation = sent_mail(app)

    later = datetime.now(UTC) + timedelta(minutes=11)
    again = rsvp_for(event, "ADA@example.org", name="Someone Else", guests=2, now=later)
    assert again.status == RsvpStatus.PENDING  # what a new RSVP would have been told
    assert not again.was_new
    db.session.expire_all()
    after = db.session.get(Rsvp, first.rsvp.id)
    assert (after.name, after.guests, after.status, after.created_at) == snapshot
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 1

    mails = sent_mail(app)
    assert len(mails) == 3
    assert mails[2]["To"] == "ada@example.org"  # the address on record
    assert "nothing was changed" in mails[2].get_body(("plain",)).get_content()
    first_token = manage_link(confirmation).rsplit("/", 1)[1]
    fresh_token = manage_link(mails[2]).rsplit("/", 1)[1]
    assert fresh_token != first_token
    assert people.find_by_token(Rsvp, fresh_token).id == after.id
    assert people.find_by_token(Rsvp, first_token).id == after.id  # earlier links keep working


def test_a_form_posted_twice_sends_one_email(ctx, app, make_event):
    event = make_event()
    rsvp_for(event, "ada@example.org")
    rsvp_for(event, "ada@example.org")
    rsvp_for(event, "ADA@example.org")
    assert len(sent_mail(app)) == 1


def test_a_repeat_on_a_full_event_is_told_what_a_newcomer_would_be(ctx, make_event):
    event = make_event(capacity=1)
    rsvp_for(event, "ada@example.org")
    assert rsvps.create_rsvp(load(event), email="ada@example.org").status == RsvpStatus.PENDING
    assert rsvps.create_rsvp(load(event), email="bob@example.org").status == RsvpStatus.PENDING
    db.session.commit()
    assert statuses(event) == {"ada@example.org": "confirmed", "bob@example.org": "pending"}


def test_a_check_in_code_already_taken_is_drawn_again(ctx, app, make_event, monkeypatch):
    event = make_event()
    draws = iter(["AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(rsvps, "draw_checkin_code", lambda: next(draws))
    first = rsvp_for(event, "ada@example.org").rsvp
    second = rsvp_for(event, "bob@example.org").rsvp
    assert (first.checkin_code, second.checkin_code) == ("AAAAAA", "BBBBBB")
    assert statuses(event) == {"ada@example.org": "confirmed", "bob@example.org": "confirmed"}
    assert len(sent_mail(app)) == 2


def test_one_rsvp_per_address_is_enforced_by_the_database(ctx, make_event, make_rsvp):
    event = make_event()
    make_rsvp(event, email="dup@example.org")
    db.session.add(
        Rsvp(
            event_id=event.id,
            email="dup@example.org",
            email_key=email_lookup("DUP@example.org"),
            status="confirmed",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"status": EventStatus.DRAFT}, "not published"),
        ({"status": EventStatus.CANCELLED}, "cancelled"),
        ({"starts_at": datetime(2017, 12, 10, 11, tzinfo=UTC)}, "has ended"),
        ({"rsvp_opens_at": datetime.now(UTC) + timedelta(days=1)}, "not opened yet"),
        ({"rsvp_closes_at": datetime.now(UTC) - timedelta(minutes=1)}, "are closed"),
    ],
)
def test_events_that_are_not_open_refuse_rsvps(ctx, make_event, overrides, reason):
    event = make_event(**overrides)
    with pytest.raises(RsvpsClosed, match=reason):
        rsvps.create_rsvp(load(event), email="late@example.org")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 0


def test_rsvps_stay_open_until_the_event_ends(ctx, make_event):
    started = make_event(starts_at=datetime.now(UTC) - timedelta(minutes=30))
    assert rsvp_for(started, "onthe@day.org").status == RsvpStatus.CONFIRMED


def test_cancelling_promotes_the_earliest_waitlisted_that_fit(ctx, app, make_event):
    event = make_event(capacity=2)
    a = rsvp_for(event, "a@example.org", guests=1).rsvp
    rsvp_for(event, "big@example.org", guests=2)  # waits first, needs 3
    rsvp_for(event, "b@example.org")  # waits second, needs 1
    rsvp_for(event, "c@example.org")  # waits third, needs 1
    promoted = rsvps.cancel_rsvp(db.session.get(Rsvp, a.id))
    db.session.commit()
    assert [r.email for r in promoted] == ["b@example.org", "c@example.org"]
    assert statuses(event) == {
        "a@example.org": "cancelled",
        "big@example.org": "waitlisted",
        "b@example.org": "confirmed",
        "c@example.org": "confirmed",
    }
    subjects = [m["Subject"] for m in sent_mail(app)]
    assert subjects.count(f"A place has opened up for you: {event.title}") == 2
    assert f"Your RSVP has been cancelled: {event.title}" in subjects


def test_lowering_guests_frees_places_for_the_waitlist(ctx, make_event):
    event = make_event(capacity=3)
    a = rsvp_for(event, "a@example.org", guests=2).rsvp
    rsvp_for(event, "b@example.org")
    rsvps.update_rsvp(
        db.session.get(Rsvp, a.id), name=None, guests=1, accessibility=None, wants_updates=False
    )
    db.session.commit()
    assert statuses(event)["b@example.org"] == "confirmed"


def test_more_guests_must_fit_and_a_refusal_changes_nothing(ctx, make_event):
    event = make_event(capacity=4)
    a = rsvp_for(event, "a@example.org", guests=1).rsvp
    rsvp_for(event, "b@example.org")
    rsvp = db.session.get(Rsvp, a.id)
    with pytest.raises(NotEnoughPlaces, match="at most 2 guest"):
        rsvps.update_rsvp(rsvp, name="New", guests=3, accessibility=None, wants_updates=False)
    db.session.rollback()
    rsvp = db.session.get(Rsvp, a.id)
    assert (rsvp.guests, rsvp.name) == (1, None)
    rsvps.update_rsvp(rsvp, name="New", guests=2, accessibility=None, wants_updates=False)
    db.session.commit()
    assert db.session.get(Rsvp, a.id).guests == 2


def test_waitlisted_person_can_lower_guests_and_be_promoted(ctx, make_event):
    event = make_event(capacity=2)
    rsvp_for(event, "a@example.org")
    w = rsvp_for(event, "w@example.org", guests=2).rsvp
    rsvps.update_rsvp(
        db.session.get(Rsvp, w.id), name=None, guests=0, accessibility=None, wants_updates=False
    )
    db.session.commit()
    assert statuses(event)["w@example.org"] == "confirmed"


def test_undo_cancel_gets_a_place_back_or_joins_the_end_of_the_waitlist(ctx, make_event):
    event = make_event(capacity=1)
    a = rsvp_for(event, "a@example.org").rsvp
    rsvps.cancel_rsvp(db.session.get(Rsvp, a.id))
    db.session.commit()
    assert rsvps.restore_rsvp(db.session.get(Rsvp, a.id)) == RsvpStatus.CONFIRMED
    db.session.commit()
    rsvps.cancel_rsvp(db.session.get(Rsvp, a.id))
    db.session.commit()
    rsvp_for(event, "b@example.org")  # takes the freed place
    assert rsvps.restore_rsvp(db.session.get(Rsvp, a.id)) == RsvpStatus.WAITLISTED
    db.session.commit()
    with pytest.raises(InvalidState):
        rsvps.restore_rsvp(db.session.get(Rsvp, a.id))


def test_cancelling_twice_is_refused(ctx, make_event):
    event = make_event()
    a = rsvp_for(event, "a@example.org").rsvp
    rsvps.cancel_rsvp(db.session.get(Rsvp, a.id))
    db.session.commit()
    with pytest.raises(InvalidState):
        rsvps.cancel_rsvp(db.session.get(Rsvp, a.id))


def test_erasing_deletes_the_row_and_promotes_the_waitlist(ctx, make_event):
    event = make_event(capacity=1)
    a = rsvp_for(event, "a@example.org", name="Ada").rsvp
    rsvp_for(event, "b@example.org")
    rsvps.erase_rsvp(db.session.get(Rsvp, a.id))
    db.session.commit()
    assert db.session.get(Rsvp, a.id) is None
    assert statuses(event) == {"b@example.org": "confirmed"}


def test_rsvps_of_past_or_cancelled_events_cannot_change_but_can_be_erased(
    ctx, make_event, make_rsvp
):
    past = make_event(starts_at=datetime(2017, 12, 10, 11, tzinfo=UTC))
    rsvp, _ = make_rsvp(past)
    rsvp = db.session.get(Rsvp, rsvp.id)
    with pytest.raises(RsvpLocked):
        rsvps.cancel_rsvp(rsvp)
    with pytest.raises(RsvpLocked):
        rsvps.update_rsvp(rsvp, name="x", guests=0, accessibility=None, wants_updates=False)
    db.session.rollback()
    rsvps.erase_rsvp(db.session.get(Rsvp, rsvp.id))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 0


def test_rolled_back_rsvp_sends_nothing(ctx, app, make_event):
    event = make_event()
    rsvps.create_rsvp(load(event), email="never@example.org")
    db.session.rollback()
    assert sent_mail(app) == []
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 0


def test_find_rsvp_ignores_junk_tokens(ctx):
    assert people.find_by_token(Rsvp, "short") is None
    assert people.find_by_token(Rsvp, "'; DROP TABLE rsvps; --" + "x" * 30) is None
    assert people.find_by_token(Rsvp, "A" * 43) is None
