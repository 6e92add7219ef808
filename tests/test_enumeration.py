"""Knowing someone's address must not tell you whether they RSVPed, volunteered or have
an account: same status, same page, and the same work, for known and unknown alike.

Checked by what a request does — its SQL statements, its emails, its password
hashes — rather than by timing it: the same work cannot take different time."""

from datetime import timedelta

from argon2 import PasswordHasher
from helpers import csrf_token, login, recorded_statements
from sqlalchemy import func, select, update

from vigil import volunteers
from vigil.extensions import db
from vigil.models import Event, OutboxMessage, utcnow


def outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def post_as_known_and_new(app, page_url: str, url: str, data: dict):
    """Post the form once with the known address and once with a new one, each from a
    fresh browser: what each request ran and queued, and the pages people saw."""
    runs, pages = {}, set()
    for address in ("known@example.org", "new@example.org"):
        client = app.test_client()
        token = csrf_token(client.get(page_url).get_data(as_text=True))
        before = outbox_count(app)
        with recorded_statements(app) as statements:
            response = client.post(url, data={**data, "email": address, "csrf_token": token})
        assert response.status_code == 303
        runs[address] = (statements, outbox_count(app) - before)
        pages.add(client.get(response.headers["Location"]).get_data(as_text=True))
    return runs, pages


def test_an_rsvp_from_a_known_address_does_the_same_work(app, make_event, make_rsvp):
    """Same statements, one outbox row, the same page: nothing in the request differs."""
    event = make_event(capacity=100)
    make_rsvp(event, email="known@example.org")  # RSVPed earlier: no link sent lately
    url = f"/events/{event.slug}/rsvp"
    data = {"guests": "0", "consent": "y"}
    runs, pages = post_as_known_and_new(app, f"/events/{event.slug}", url, data)
    assert runs["known@example.org"] == runs["new@example.org"]
    assert runs["new@example.org"][1] == 1  # one email each: a place, or a fresh link
    assert any(s.startswith("INSERT INTO rsvps") for s in runs["known@example.org"][0])
    assert len(pages) == 1  # byte for byte the same confirmation page


def test_a_volunteer_sign_up_from_a_known_address_does_the_same_work(app, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    url = f"/events/{event.slug}/volunteer"
    data = {"shifts": str(leaflets), "consent": "y"}
    with app.app_context():
        volunteers.sign_up(
            db.session.get(Event, event.id),
            email="known@example.org",
            shift_ids=[leaflets],
        )
        earlier = utcnow() - timedelta(hours=1)  # signed up earlier: no link sent lately
        db.session.execute(update(OutboxMessage).values(created_at=earlier))
        db.session.commit()
    runs, pages = post_as_known_and_new(app, url, url, data)
    assert runs["known@example.org"] == runs["new@example.org"]
    assert runs["new@example.org"][1] == 1
    assert len(pages) == 1


def test_log_in_says_and_does_the_same_for_unknown_addresses(app, make_organiser, monkeypatch):
    """The same statements and one password hash each, whether the account exists or not."""
    email = make_organiser("organiser")
    hashes = []
    verify = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: hashes.append(1) or verify(self, *a)
    )
    runs, texts = {}, set()
    for address in (email, "nobody@vigil.example"):
        client = app.test_client()
        client.get("/organiser/login")
        hashes.clear()
        with recorded_statements(app) as statements:
            response = login(client, address, "not the password at all")
        assert response.status_code == 401
        runs[address] = ([s for s in statements if not s.startswith("SELECT")], len(hashes))
        body = response.get_data(as_text=True)
        texts.add(body.split('id="error-summary"', 1)[1].split("</div>", 1)[0])
    assert len(texts) == 1
    assert runs[email] == runs["nobody@vigil.example"]
    assert runs[email][1] == 1
