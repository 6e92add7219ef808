"""Organisers create, edit, copy, publish, unpublish and cancel events through forms."""

from datetime import UTC, datetime, timedelta

import pytest
from helpers import audited, csrf_token

from vigil import event_editing
from vigil.extensions import db
from vigil.models import (
    Event,
    EventMember,
    EventStatus,
    OutboxMessage,
    Role,
    RsvpStatus,
)

NEW_EVENT = {
    "title": "Free Joshua Wong",
    "slug": "free-joshua-wong",
    "summary": "A vigil outside the Hong Kong office.",
    "description": "We gather at noon.\n\nBring a candle.",
    "demands": "Free him\n\n  Free them all  ",
    "venue": "Outside the office",
    "street_address": "18 Bedford Square",
    "locality": "London",
    "postcode": "WC1B 3JA",
    "transport": "Tottenham Court Road",
    "latitude": "51.5187",
    "longitude": "-0.1306",
    "timezone": "Asia/Hong_Kong",
    "starts": "2031-06-04T20:00",
    "ends": "2031-06-04T22:00",
    "capacity": "200",
    "rsvp_opens": "",
    "rsvp_closes": "",
}


def post_form(client, url, data):
    """Load the form page for its CSRF token, then send `data` with it."""
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def stored(app, slug) -> Event | None:
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == slug))
        if event is not None:
            db.session.expunge(event)
        return event


def outbox_kinds(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(OutboxMessage.kind)))


def test_an_organiser_creates_a_draft_in_local_time_then_publishes_it(app, signed_in):
    client = signed_in()
    response = post_form(client, "/organiser/events/new", NEW_EVENT)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/organiser/events/free-joshua-wong/edit")
    event = stored(app, "free-joshua-wong")
    assert event.status == EventStatus.DRAFT
    # 20:00 in Hong Kong is 12:00 UTC
    assert event.starts_at == datetime(2031, 6, 4, 12, 0, tzinfo=UTC)
    assert event.demands == ["Free him", "Free them all"]
    assert (event.capacity, event.latitude) == (200, 51.5187)
    assert app.test_client().get("/events/free-joshua-wong").status_code == 404  # a draft
    with app.app_context():
        assert db.session.scalar(db.select(EventMember.id).where(EventMember.event_id == event.id))
    edit = client.get("/organiser/events/free-joshua-wong/edit").get_data(as_text=True)
    assert 'value="2031-06-04T20:00"' in edit and "Status: draft" in edit
    token = csrf_token(edit)
    response = client.post("/organiser/events/free-joshua-wong/publish", data={"csrf_token": token})
    assert response.status_code == 303
    assert stored(app, "free-joshua-wong").status == EventStatus.PUBLISHED
    assert app.test_client().get("/events/free-joshua-wong").status_code == 200
    assert [action for action, _ in audited(app)] == ["create event", "publish event"]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"ends": "2031-06-04T19:00"}, "ends", "The end must be after the start."),
        ({"capacity": "-1"}, "capacity", "Places must be a whole number, 0 or more."),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Choose a time zone from the list."),
        ({"slug": "Free Joshua!"}, "slug", "Use lower-case letters, digits and single hyphens"),
        ({"slug": "taken"}, "slug", "Another event uses that web address already."),
        ({"latitude": "nan"}, "latitude", "Please enter a number."),
        ({"longitude": ""}, "longitude", "Give both latitude and longitude, or neither."),
        # the clocks in London skip from 01:00 to 02:00 on 30 March 2031
        (
            {"timezone": "Europe/London", "starts": "2031-03-30T01:30"},
            "starts",
            "That time does not exist there",
        ),
        (
            {"rsvp_opens": "2031-06-01T10:00", "rsvp_closes": "2031-05-01T10:00"},
            "rsvp_closes",
            "RSVPs must close after they open.",
        ),
        ({"title": "x" * 201}, "title", "Field cannot be longer than 200 characters."),
        ({"title": "Hidden\x00byte"}, "title", "Please remove the invisible control characters."),
    ],
)
def test_a_bad_value_is_named_beside_its_field_and_nothing_is_stored(
    app, make_event, signed_in, change, field, message
):
    make_event(slug="taken")
    client = signed_in()
    response = post_form(client, "/organiser/events/new", {**NEW_EVENT, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert message in error.replace("&#39;", "'")
    assert 'value="Outside the office"' in html  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Event.id))) == 1


def test_moving_an_event_asks_first_and_says_how_many_will_be_emailed(
    app, make_event, make_rsvp, signed_in
):
    event = make_event(slug="moving")
    make_rsvp(event)
    make_rsvp(event, status=RsvpStatus.WAITLISTED)
    make_rsvp(event, status=RsvpStatus.CANCELLED)
    client = signed_in(events=[event])
    url = "/organiser/events/moving/edit"
    page = client.get(url).get_data(as_text=True)
    with app.app_context():
        values = event_editing.local_values(db.session.get(Event, event.id))
    form = {
        k: (v.strftime("%Y-%m-%dT%H:%M") if isinstance(v, datetime) else v)
        for k, v in values.items()
        if v is not None
    }
    form["demands"] = "\n".join(values["demands"])
    # a new title moves nothing: saved at once, nobody emailed
    response = client.post(url, data={**form, "title": "Renamed", "csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert stored(app, "moving").title == "Renamed" and outbox_kinds(app) == []
    # a new place: first the question, nothing changed yet
    later = {**form, "title": "Renamed", "venue": "Across the road", "csrf_token": csrf_token(page)}
    question = client.post(url, data=later)
    assert question.status_code == 200
    assert "2 people will be emailed the new details" in question.get_data(as_text=True)
    assert stored(app, "moving").venue == "Opposite the embassy"
    # confirmed: saved, sequence raised, both active RSVPs emailed
    done = client.post(url, data={**later, "confirm": "y"})
    assert done.status_code == 303
    assert "2 people were emailed" in client.get(url).get_data(as_text=True)
    moved = stored(app, "moving")
    assert moved.venue == "Across the road" and moved.sequence == 1
    assert outbox_kinds(app) == ["event_changed", "event_changed"]


def test_cancelling_asks_with_the_count_then_emails_and_publishing_again_tells_them(
    app, make_event, make_rsvp, signed_in
):
    event = make_event(slug="called-off")
    make_rsvp(event)
    make_rsvp(event)
    client = signed_in(events=[event])
    url = "/organiser/events/called-off/cancel"
    page = client.get(url).get_data(as_text=True)
    assert "2 people (with an RSVP or a shift) will be emailed that the event is cancelled." in page
    refused = client.post(url, data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 422 and "Tick the box to confirm." in refused.get_data(True)
    assert stored(app, "called-off").status == EventStatus.PUBLISHED
    assert (
        client.post(url, data={"csrf_token": csrf_token(page), "confirm": "y"}).status_code == 303
    )
    assert stored(app, "called-off").status == EventStatus.CANCELLED
    assert outbox_kinds(app) == ["event_cancelled", "event_cancelled"]
    again = "/organiser/events/called-off/publish"
    page = client.get(again).get_data(as_text=True)
    assert "2 people (with an RSVP or a shift) will be emailed that the event is on again." in page
    assert (
        client.post(again, data={"csrf_token": csrf_token(page), "confirm": "y"}).status_code == 303
    )
    reinstated = stored(app, "called-off")
    assert reinstated.status == EventStatus.PUBLISHED and reinstated.sequence == 2
    assert outbox_kinds(app).count("event_reinstated") == 2  # "back on", not "changed"
    assert audited(app) == [("cancel event", 2), ("reinstate event", 2)]


def test_an_event_people_have_rsvped_to_cannot_be_unpublished(
    app, make_event, make_rsvp, signed_in
):
    event, empty = make_event(slug="busy"), make_event(slug="quiet")
    make_rsvp(event)
    client = signed_in(events=[event, empty])
    page = client.get("/organiser/events/busy/edit").get_data(as_text=True)
    refused = client.post("/organiser/events/busy/unpublish", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 409
    assert "Cancel it instead, so they are told." in refused.get_data(as_text=True)
    assert stored(app, "busy").status == EventStatus.PUBLISHED
    done = client.post("/organiser/events/quiet/unpublish", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 303
    assert stored(app, "quiet").status == EventStatus.DRAFT


def test_a_copy_for_next_year_moves_the_date_and_the_shifts_but_takes_nobody_along(
    app, make_event, make_roles, make_rsvp, signed_in
):
    start = datetime(2017, 12, 10, 11, 0, tzinfo=UTC)
    event = make_event(
        slug="human-rights-day-2017",
        title="Human Rights Day 2017",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    make_roles(event)
    make_rsvp(event)
    client = signed_in(events=[event])
    url = "/organiser/events/human-rights-day-2017/duplicate"
    page = client.get(url).get_data(as_text=True)
    year = datetime.now(UTC).year
    if (datetime.now(UTC).month, datetime.now(UTC).day) > (12, 10):
        year += 1
    assert f'value="human-rights-day-{year}"' in page
    assert f'value="{year}-12-10T11:00"' in page
    form = {
        "title": f"Human Rights Day {year}",
        "slug": f"human-rights-day-{year}",
        "venue": "Opposite the embassy",
        "street_address": "49-59 Portland Place",
        "locality": "London",
        "postcode": "W1B 1JL",
        "timezone": "Europe/London",
        "starts": f"{year}-12-10T11:00",
        "ends": f"{year}-12-10T13:00",
        "csrf_token": csrf_token(page),
    }
    assert client.post(url, data=form).status_code == 303
    copy = stored(app, f"human-rights-day-{year}")
    assert copy.status == EventStatus.DRAFT
    with app.app_context():
        roles = db.session.scalars(db.select(Role).where(Role.event_id == copy.id)).all()
        assert [r.name for r in roles] == ["Steward", "Leafleting"]
        first = roles[0].shifts[0]
        original = db.session.scalars(db.select(Role).where(Role.event_id == event.id)).first()
        assert first.starts_at - original.shifts[0].starts_at == copy.starts_at - start
        assert db.session.get(Event, copy.id).rsvps == []
    # a second copy is offered another address, and cannot take the first one's
    assert f'value="human-rights-day-{year}-copy-2"' in client.get(url).get_data(as_text=True)
    again = client.post(url, data=form)
    assert again.status_code == 422
    assert "Another event uses that web address already." in again.get_data(as_text=True)


def test_a_steward_cannot_create_events(app, signed_in):
    client = signed_in(role="steward")
    assert client.get("/organiser/events/new").status_code == 403
    token = csrf_token(client.get("/organiser/").get_data(as_text=True))
    assert (
        client.post("/organiser/events/new", data={**NEW_EVENT, "csrf_token": token}).status_code
        == 403
    )
    assert stored(app, "free-joshua-wong") is None
