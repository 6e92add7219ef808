"""Knowing someone's address must not tell you whether they RSVPed, volunteered or have
an account: same status, same page, and the same work, for known and unknown alike.

RSVPs and log-ins are checked by what the request does (its SQL statements, its
emails, its password hashes); volunteer sign-ups still by time, until a sign-up
from a known address writes what a new one does."""

import statistics
import time
from contextlib import contextmanager

from argon2 import PasswordHasher
from helpers import csrf_token, login
from sqlalchemy import event, func, select

from vigil.extensions import db
from vigil.models import OutboxMessage

FLOOR = 0.3


def same_time(a: list[float], b: list[float]) -> bool:
    """Medians within 15% of each other: a stored row plus an email to render would
    otherwise make a new address half as slow again as a known one."""
    first, second = statistics.median(a), statistics.median(b)
    return max(first, second) / min(first, second) < 1.15


def timed_post(client, url, data):
    page = client.get(url.rsplit("/rsvp", 1)[0] if url.endswith("/rsvp") else url)
    token = csrf_token(page.get_data(as_text=True))
    started = time.monotonic()
    response = client.post(url, data={**data, "csrf_token": token})
    return response, time.monotonic() - started


@contextmanager
def recorded_statements(app):
    """Every SQL statement the app sends meanwhile, with its values left out."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_an_rsvp_from_a_known_address_does_the_same_work(app, make_event, make_rsvp):
    """Same statements, one outbox row, the same page: nothing in the request differs."""
    app.config["VIGIL_FORM_MIN_SECONDS"] = 0
    event = make_event(capacity=100)
    make_rsvp(event, email="known@example.org")  # RSVPed earlier: no link sent lately
    url = f"/events/{event.slug}/rsvp"
    data = {"guests": "0", "consent": "y"}
    runs, pages = {}, set()
    for address in ("known@example.org", "new@example.org"):
        client = app.test_client()
        token = csrf_token(client.get(f"/events/{event.slug}").get_data(as_text=True))
        before = outbox_count(app)
        with recorded_statements(app) as statements:
            response = client.post(url, data={**data, "email": address, "csrf_token": token})
        assert response.status_code == 303
        runs[address] = (statements, outbox_count(app) - before)
        pages.add(client.get(response.headers["Location"]).get_data(as_text=True))
    assert runs["known@example.org"] == runs["new@example.org"]
    assert runs["new@example.org"][1] == 1  # one email each: a place, or a fresh link
    assert any(s.startswith("INSERT INTO rsvps") for s in runs["known@example.org"][0])
    assert len(pages) == 1  # byte for byte the same confirmation page


def test_a_volunteer_sign_up_from_a_known_address_takes_the_same(app, make_event, make_roles):
    app.config["VIGIL_FORM_MIN_SECONDS"] = FLOOR
    event = make_event()
    _, (leaflets,) = make_roles(event)
    url = f"/events/{event.slug}/volunteer"
    data = {"shifts": str(leaflets), "consent": "y"}
    timed_post(app.test_client(), url, {**data, "email": "known@example.org"})
    known, unknown = [], []
    for i in range(5):
        known.append(timed_post(app.test_client(), url, {**data, "email": "known@example.org"})[1])
        unknown.append(
            timed_post(app.test_client(), url, {**data, "email": f"n{i}@example.org"})[1]
        )
    assert min(known + unknown) >= FLOOR
    assert same_time(known, unknown)


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
        texts.add(body.split('<div class="alert"', 1)[1].split("</div>", 1)[0])
    assert len(texts) == 1
    assert runs[email] == runs["nobody@vigil.example"]
    assert runs[email][1] == 1
