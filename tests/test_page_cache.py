"""Public pages from the cache: rendered once per change, never stale after one.

Checked by what a request sends to the database and by what the visitor reads:
a page that is current costs no query; after an RSVP, a couple of small ones;
after any change, the visitor sees it on the next load."""

import time
from datetime import timedelta

import pytest
import redis
from helpers import confirmed_sign_up, csrf_token, recorded_statements

from vigil import create_app, people, rsvps
from vigil.extensions import db
from vigil.models import Event, EventStatus, Rsvp, RsvpStatus, utcnow
from vigil.page_cache import page_cache
from vigil.public_state import event_state, listing_state

REDIS_URL = "redis://127.0.0.1:6379/0"


def renders(app) -> int:
    return app.extensions["vigil_page_cache"].renders


def rsvp(client, event, address: str, guests: int = 0):
    """An RSVP as a person makes it: the form, then (where places are limited) the
    confirmation from their mailbox, which is when a place is taken."""
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "email": address, "guests": str(guests)}
    response = client.post(f"/events/{event.slug}/rsvp", data={**data, "consent": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with client.application.app_context():
        person = people.find_by_address(Rsvp, db.session.get(Event, event.id), address)
        if person.status == RsvpStatus.PENDING:
            rsvps.confirm_rsvp(person)
            db.session.commit()


def set_title(app, event, title: str):
    with app.app_context():
        db.session.get(Event, event.id).title = title
        db.session.commit()


def test_a_current_page_costs_no_query_and_no_render(app, client, make_event):
    event = make_event(capacity=10, confirm_by_email=None)
    with recorded_statements(app) as first:
        assert client.get(f"/events/{event.slug}").status_code == 200
    assert first and renders(app) == 1
    for path in (f"/events/{event.slug}", f"/events/{event.slug}"):
        with recorded_statements(app) as statements:
            page = app.test_client().get(path)
        assert page.status_code == 200 and event.title in page.get_data(as_text=True)
        assert statements == []
    assert renders(app) == 1


def test_an_rsvp_costs_the_page_two_queries_and_no_render_unless_it_shows(app, client, make_event):
    event = make_event(capacity=3, confirm_by_email=None)
    client.get(f"/events/{event.slug}")
    rsvp(app.test_client(), event, "first@example.org")
    before = renders(app)
    with recorded_statements(app) as statements:
        page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    queries = [s for s in statements if s.startswith("SELECT")]
    assert len(queries) == 2, statements  # the event with its places taken; its shifts
    assert renders(app) == before and "Places available" in page
    # The last places go: what the page shows changes, so it is rendered again.
    rsvp(app.test_client(), event, "second@example.org", guests=1)
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "Full: new RSVPs join the waitlist" in page and renders(app) == before + 1
    # A place comes free again: the page says so on the next load.
    with app.app_context():
        person = db.session.scalar(db.select(Rsvp).where(Rsvp.guests == 1))
        rsvps.cancel_rsvp(person)
        db.session.commit()
    assert "Places available" in client.get(f"/events/{event.slug}").get_data(as_text=True)


def test_rsvps_to_an_event_without_a_limit_cost_its_pages_nothing(
    app, client, make_event, make_roles
):
    """Nothing on such a page counts RSVPs, so a crowd RSVPing leaves it current;
    a volunteer filling a shift still shows at once, and so does a limit set later."""
    event = make_event(capacity=None, confirm_by_email=None)
    [[shift_id]] = make_roles(event, [({"name": "Stewarding"}, [(1, 1, 1)])])
    pages = (f"/events/{event.slug}", f"/events/{event.slug}/volunteer", "/")
    for path in pages:
        client.get(path)
    for n in range(3):
        rsvp(app.test_client(), event, f"crowd-{n}@example.org")
    for path in pages:
        with recorded_statements(app) as statements:
            assert client.get(path).status_code == 200
        assert statements == [], path
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id), email="v@example.org", shift_ids=[shift_id]
        )
        db.session.commit()
    assert ">Full<" in client.get(pages[1]).get_data(as_text=True)
    with app.app_context():
        db.session.get(Event, event.id).capacity = 3
        db.session.commit()
    assert "Full: new RSVPs join the waitlist" in client.get(pages[0]).get_data(as_text=True)


def test_every_change_to_an_event_shows_on_the_next_load(app, client, make_event):
    event = make_event()
    assert event.title in client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert event.title in client.get("/").get_data(as_text=True)
    set_title(app, event, "Moved to Parliament Square")
    for path in (f"/events/{event.slug}", "/", f"/events/{event.slug}/volunteer"):
        assert "Moved to Parliament Square" in client.get(path).get_data(as_text=True), path
    with app.app_context():
        db.session.get(Event, event.id).status = EventStatus.DRAFT
        db.session.commit()
    assert client.get(f"/events/{event.slug}").status_code == 404
    assert "Moved to Parliament Square" not in client.get("/").get_data(as_text=True)


def test_a_full_shift_shows_on_the_volunteer_page_at_once(app, client, make_event, make_roles):
    event = make_event()
    [[shift_id]] = make_roles(event, [({"name": "Leafleting"}, [(1, 1, 1)])])
    page = client.get(f"/events/{event.slug}/volunteer").get_data(as_text=True)
    assert "Places available" in page and "disabled" not in page
    with app.app_context():
        stored = db.session.get(Event, event.id)
        confirmed_sign_up(stored, email="v@example.org", shift_ids=[shift_id])
        db.session.commit()
    page = client.get(f"/events/{event.slug}/volunteer").get_data(as_text=True)
    assert ">Full<" in page and "disabled" in page
    assert "Every volunteer shift is full" in client.get(f"/events/{event.slug}").get_data(
        as_text=True
    )


def test_each_visitor_gets_their_own_working_form_token(app, make_event):
    event = make_event(capacity=10, confirm_by_email=None)
    first, second = app.test_client(), app.test_client()
    tokens = [
        csrf_token(c.get(f"/events/{event.slug}").get_data(as_text=True)) for c in (first, second)
    ]
    assert tokens[0] != tokens[1] and renders(app) == 1
    assert "placeholder" not in first.get(f"/events/{event.slug}").get_data(as_text=True)
    # Each token works for its own visitor and not for the other.
    data = {"email": "a@example.org", "guests": "0", "consent": "y"}
    url = f"/events/{event.slug}/rsvp"
    assert second.post(url, data={**data, "csrf_token": tokens[0]}).status_code == 400
    assert first.post(url, data={**data, "csrf_token": tokens[0]}).status_code == 303


def test_a_visitors_copy_is_answered_304_until_the_page_changes(app, client, make_event):
    event = make_event()
    url = f"/events/{event.slug}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # Another visitor's copy holds another form token: never theirs to reuse.
    stranger = app.test_client().get(url, headers={"If-None-Match": etag})
    assert stranger.status_code == 200
    set_title(app, event, "A new title")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "A new title" in changed.get_data(as_text=True)
    # The home page holds no token: shared caches may keep it, with Last-Modified too.
    home = client.get("/")
    assert home.headers["Cache-Control"] == "public, no-cache" and home.last_modified
    assert client.get("/", headers={"If-None-Match": home.headers["ETag"]}).status_code == 304


def test_the_feed_answers_304_without_a_query_and_changes_with_an_event(app, client, make_event):
    event = make_event()
    etag = client.get("/calendar.ics").headers["ETag"]
    with recorded_statements(app) as statements:
        response = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert response.status_code == 304 and statements == []
    set_title(app, event, "Renamed")
    response = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert response.status_code == 200 and b"Renamed" in response.data


def test_unknown_addresses_are_not_kept(app, client, make_event):
    make_event()
    for n in range(50):
        assert client.get(f"/events/no-such-event-{n}").status_code == 404
    with app.app_context():
        assert len(page_cache()) == 0


def test_a_flash_message_is_shown_to_its_visitor_alone(app, client, make_event):
    event = make_event()
    client.get(f"/events/{event.slug}")
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Your RSVP has been cancelled.")]
    assert "has been cancelled" in client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "has been cancelled" not in app.test_client().get(f"/events/{event.slug}").get_data(
        as_text=True
    )


def test_the_states_say_when_time_alone_changes_a_page(ctx, make_event, make_roles):
    now = utcnow()
    event = make_event(
        rsvp_opens_at=now + timedelta(hours=1), rsvp_closes_at=now + timedelta(days=2)
    )
    make_roles(event, [({"name": "Leafleting"}, [(-2, 1, 3)])])
    state = event_state(event.slug, now)
    assert state.valid_until == event.rsvp_opens_at
    later = event_state(event.slug, event.rsvp_opens_at + timedelta(seconds=1))
    assert later.shows != state.shows and later.valid_until == event.rsvp_closes_at
    # The home page changes when an event ends (it moves to "Past events").
    assert listing_state(now).valid_until == event.ends_at
    assert event_state("no-such-event", now) is None


# ---------------------------------------------------------------- several processes


@pytest.fixture
def shared(app):
    """Two more apps on the same database, sharing the page cache through Redis, as two
    app machines (or an app and a mail worker) do."""
    settings = {
        key: app.config[key]
        for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "VIGIL_BASE_URL")
    }
    apps = [
        create_app({**settings, "INSTANCE_PATH": app.instance_path, "VIGIL_CACHE_URL": REDIS_URL})
        for _ in range(2)
    ]
    yield apps
    cache = apps[0].extensions["vigil_page_cache"]
    client = redis.Redis.from_url(REDIS_URL)
    scope = cache.generations.keys[0].rsplit(":", 1)[0]
    for name in client.scan_iter(match=f"{scope}:*"):
        client.delete(name)
    for other in apps:
        with other.app_context():
            db.engine.dispose()


def heard(*apps) -> None:
    """Wait (up to 2 s) until every app has heard the latest change announced in
    Redis: each process learns of changes through its listener, within moments."""
    caches = [a.extensions["vigil_page_cache"].generations for a in apps]
    deadline = time.monotonic() + 2
    while any(c.read() != c.fetch() for c in caches):
        assert time.monotonic() < deadline, "a change was not heard"
        time.sleep(0.01)


def test_a_change_in_one_process_shows_in_the_others_at_once(app, shared, make_event):
    one, other = shared
    event = make_event(capacity=1, confirm_by_email=None)
    url = f"/events/{event.slug}"
    heard(one, other)
    assert "Places available" in one.test_client().get(url).get_data(as_text=True)
    assert "Places available" in other.test_client().get(url).get_data(as_text=True)
    # Rendered once for both: the second process took the first one's page.
    assert renders(one) + renders(other) == 1
    rsvp(one.test_client(), event, "only@example.org")
    heard(other)
    assert "Full: new RSVPs join" in other.test_client().get(url).get_data(as_text=True)
    set_title(one, event, "Now at noon")
    heard(other)
    assert "Now at noon" in other.test_client().get(url).get_data(as_text=True)


def test_a_place_freed_by_the_mail_worker_shows_on_the_web(app, shared, make_event):
    """An RSVP stored before places were taken by confirming held its place until its
    deadline; the worker releases it, and the web process shows the place at once."""
    web, worker = shared
    event = make_event(capacity=1)
    rsvp(web.test_client(), event, "late@example.org")
    url = f"/events/{event.slug}"
    with web.app_context():
        person = db.session.scalar(db.select(Rsvp))
        assert person.status == RsvpStatus.CONFIRMED
        person.confirm_by = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert "Full: new RSVPs join" in web.test_client().get(url).get_data(as_text=True)
    with worker.app_context():
        assert rsvps.expire_unconfirmed() == 1
        db.session.commit()
    heard(web)
    assert "Places available" in web.test_client().get(url).get_data(as_text=True)
