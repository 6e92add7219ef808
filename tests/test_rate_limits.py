"""Hostile floods: a per-client limit with 429 and Retry-After; a per-address limit
that only stops emails, so no stranger can get anyone refused; a honeypot; limits
shared between processes through Redis; and no address in the limiter's store."""

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from conftest import free_port
from helpers import client_from, csrf_token
from sqlalchemy import func, select

from vigil.config import load_config
from vigil.extensions import db, limiter
from vigil.models import OutboxMessage, Rsvp, VolunteerSignup

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = load_config("/nonexistent")


@pytest.fixture
def default_limits(app):
    app.config.update(
        VIGIL_FORM_LIMIT_PER_CLIENT=DEFAULTS["VIGIL_FORM_LIMIT_PER_CLIENT"],
        VIGIL_FORM_LIMIT_PER_ADDRESS=DEFAULTS["VIGIL_FORM_LIMIT_PER_ADDRESS"],
    )
    return app


def rsvp(client, event, email, **extra):
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "email": email, "guests": "0", "consent": "y"}
    return client.post(f"/events/{event.slug}/rsvp", data={**data, **extra})


def stored(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_group_on_one_network_can_all_rsvp(default_limits, make_event):
    event = make_event()
    client = default_limits.test_client()
    statuses = [rsvp(client, event, f"member{i}@example.org").status_code for i in range(50)]
    assert statuses == [303] * 50
    assert stored(default_limits, Rsvp) == 50


def test_a_flood_from_one_client_is_refused_with_retry_after(default_limits, make_event):
    event = make_event()
    client = default_limits.test_client()
    token = csrf_token(client.get(f"/events/{event.slug}").get_data(as_text=True))
    statuses = []
    for i in range(70):
        response = client.post(
            f"/events/{event.slug}/rsvp",
            data={
                "csrf_token": token,
                "email": f"bot{i}@example.org",
                "guests": "0",
                "consent": "y",
            },
        )
        statuses.append(response.status_code)
    assert statuses[:60] == [303] * 60
    assert set(statuses[60:]) == {429}
    assert int(response.headers["Retry-After"]) > 0
    html = response.get_data(as_text=True)
    assert "Too many requests" in html and "<footer" in html  # the site's own error page
    assert stored(default_limits, Rsvp) == 60


def test_a_stranger_using_someones_address_never_gets_them_refused(default_limits, make_event):
    """8 posts with one address from 8 clients, then the owner's own: every answer is
    the usual one, and the owner's mailbox gets one email, not nine."""
    event = make_event(capacity=50)
    for i in range(8):
        stranger = client_from(default_limits, f"203.0.113.{i}")
        assert rsvp(stranger, event, "Target@Example.org").status_code == 303
    owner = client_from(default_limits, "198.51.100.7")
    answer = rsvp(owner, event, "target@example.org")
    assert answer.status_code == 303
    assert "Check your email" in owner.get(answer.headers["Location"]).get_data(as_text=True)
    assert stored(default_limits, Rsvp) == 1
    assert stored(default_limits, OutboxMessage) == 1  # the first post's; the link in it works


def test_past_the_address_limit_repeats_email_no_more_links(default_limits, make_event):
    """Links to a known address go at most once per 10 minutes per event anyway; past
    VIGIL_FORM_LIMIT_PER_ADDRESS (5 an hour) none go at all, on any event, while a new
    RSVP with the address is still taken and its email still sent."""
    from vigil import rsvps
    from vigil.models import Event
    from vigil.throttling import address_is_quiet

    events = [make_event() for _ in range(3)]
    with default_limits.test_request_context():
        assert [address_is_quiet("Busy@example.org") for _ in range(6)] == [False] * 5 + [True]
        assert address_is_quiet("someone.else@example.org") is False
        first = rsvps.create_rsvp(db.session.get(Event, events[0].id), email="busy@example.org")
        db.session.commit()
        repeat = rsvps.create_rsvp(
            db.session.get(Event, events[0].id), email="busy@example.org", quiet=True
        )
        other = rsvps.create_rsvp(
            db.session.get(Event, events[1].id), email="busy@example.org", quiet=True
        )
        db.session.commit()
        assert not repeat.was_new and other.was_new
        owners = db.session.scalars(select(OutboxMessage.rsvp_id)).all()
        assert sorted(owners) == sorted([first.rsvp.id, other.rsvp.id])


def test_no_answer_tells_how_often_an_address_was_sent(default_limits, make_event):
    """Rate-limit counts in headers would show a watcher that someone used an address
    lately; past the address's limit the answer is still the same."""
    event = make_event()
    client = default_limits.test_client()
    fresh = rsvp(client, event, "fresh@example.org")
    used = [rsvp(client, event, "used@example.org") for _ in range(7)]
    assert [r.status_code for r in used] == [303] * 7
    for response in (fresh, *used):
        assert not [h for h in response.headers.keys() if h.lower().startswith("x-ratelimit")]
        assert "Retry-After" not in response.headers
        assert response.headers["Location"] == fresh.headers["Location"]


def test_a_form_without_an_address_says_so_and_is_never_refused(default_limits, make_event):
    """Posts without an address all looked like one address to the old limit: after
    five of them site-wide, a newcomer who forgot theirs was told to wait 50 minutes."""
    event = make_event()
    for i in range(8):
        newcomer = client_from(default_limits, f"198.51.100.{i}")
        response = rsvp(newcomer, event, "", name=f"Typed name {i}")
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert 'id="email-error"' in page and f'value="Typed name {i}"' in page
    assert stored(default_limits, Rsvp) == 0


def test_volunteer_sign_ups_from_one_address_are_never_refused(
    default_limits, make_event, make_roles
):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    client = default_limits.test_client()
    url = f"/events/{event.slug}/volunteer"
    token = csrf_token(client.get(url).get_data(as_text=True))
    statuses = [
        client.post(
            url,
            data={
                "csrf_token": token,
                "email": "same@example.org",
                "shifts": str(leaflets),
                "consent": "y",
            },
        ).status_code
        for _ in range(7)
    ]
    assert statuses == [303] * 7
    assert stored(default_limits, VolunteerSignup) == 1
    assert stored(default_limits, OutboxMessage) == 1


def test_the_limiter_store_holds_no_address(default_limits, make_event):
    event = make_event()
    client = default_limits.test_client()
    rsvp(client, event, "someone.private@example.org")
    keys = " ".join(str(k) for k in limiter.storage.storage)
    assert keys  # the limits counted something
    assert "someone.private" not in keys and "127.0.0.1" not in keys


def test_a_filled_honeypot_is_answered_like_an_rsvp_but_nothing_is_kept(app, client, make_event):
    event = make_event()
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    trap = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', page).group(0)
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    response = rsvp(client, event, "bot@example.org", website="http://spam.example")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/events/{event.slug}/rsvp/done"
    assert "You have a place." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert stored(app, Rsvp) == 0 and stored(app, OutboxMessage) == 0


def test_a_filled_honeypot_on_the_volunteer_form_keeps_nothing(app, client, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    url = f"/events/{event.slug}/volunteer"
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "email": "bot@example.org",
            "shifts": str(leaflets),
            "consent": "y",
            "website": "x",
        },
    )
    assert response.status_code == 303
    assert stored(app, VolunteerSignup) == 0 and stored(app, OutboxMessage) == 0


def _server(env, port):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "vigil", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_two_processes_share_the_limits_through_redis(tmp_path):
    prefix = "vigil-test-" + secrets.token_hex(4)
    env = {
        **os.environ,
        "VIGIL_INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": prefix,
        "VIGIL_FORM_LIMIT_PER_CLIENT": "3 per hour",
        "VIGIL_MAIL_POLL_SECONDS": "60",
    }
    env.pop("DATABASE_URL", None)
    env.pop("MAIL_SERVER", None)
    flask = [sys.executable, "-m", "flask", "--app", "vigil"]
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    ports = [free_port(), free_port()]
    servers = [_server(env, port) for port in ports]
    try:
        openers = []
        for port in ports:
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            for _ in range(100):
                try:
                    opener.open(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except OSError:
                    time.sleep(0.1)
            openers.append(opener)
        index = openers[0].open(f"http://127.0.0.1:{ports[0]}/", timeout=5).read().decode()
        slug = re.search(r'href="/events/(human-rights-day-20\d\d)"', index).group(1)
        statuses = []
        for i in range(4):  # alternately to each process, from the same client
            port, opener = ports[i % 2], openers[i % 2]
            base = f"http://127.0.0.1:{port}"
            page = opener.open(f"{base}/events/{slug}", timeout=5).read().decode()
            form = urllib.parse.urlencode(
                {
                    "csrf_token": csrf_token(page),
                    "email": f"person{i}@example.org",
                    "guests": "0",
                    "consent": "y",
                }
            ).encode()
            try:
                statuses.append(opener.open(f"{base}/events/{slug}/rsvp", data=form).status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
        assert statuses == [200, 200, 200, 429]  # 200: the confirmation page after 303
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def test_the_purge_deletes_the_rate_limit_counters_of_the_people_it_deletes(
    default_limits, make_event
):
    from datetime import timedelta

    from vigil import retention
    from vigil.models import utcnow
    from vigil.throttling import key_for_address

    event = make_event(capacity=50)
    client = default_limits.test_client()
    rsvp(client, event, "gone@example.org")
    rsvp(client, event, "gone@example.org")
    with default_limits.app_context():
        gone = key_for_address("gone@example.org")
        assert any(gone in k for k in limiter.storage.storage)
        retention.purge(default_days=0, now=utcnow() + timedelta(days=30))
        assert not any(gone in k for k in limiter.storage.storage)
        assert any("client:" in k for k in limiter.storage.storage)  # not everything


def test_the_purge_deletes_counters_in_redis_too(tmp_path):
    """With Redis storage, as in production: real counters, purged with the people."""
    from datetime import timedelta

    import redis

    from vigil import create_app, retention
    from vigil.models import Event, utcnow
    from vigil.throttling import key_for_address

    prefix = "vigil-purge-" + secrets.token_hex(4)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/v.sqlite3",
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "redis-purge",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "RATELIMIT_KEY_PREFIX": prefix,
        }
    )
    server = redis.Redis(host="127.0.0.1", port=6379)
    try:
        with app.app_context():
            db.create_all()
            start = utcnow() + timedelta(days=1)
            event = Event(
                slug="r",
                title="R",
                venue="v",
                street_address="a",
                locality="l",
                postcode="p",
                timezone="Europe/London",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                status="published",
            )
            db.session.add(event)
            db.session.commit()
            db.session.refresh(event)
            db.session.expunge(event)
        client = app.test_client()
        assert rsvp(client, event, "gone@example.org").status_code == 303
        with app.app_context():
            gone = key_for_address("gone@example.org")
        stored = [k.decode() for k in server.scan_iter(f"*{prefix}*")]
        assert any(gone in k for k in stored)
        with app.app_context():
            retention.purge(default_days=0, now=utcnow() + timedelta(days=3))
        stored = [k.decode() for k in server.scan_iter(f"*{prefix}*")]
        assert stored and not any(gone in k for k in stored)  # the client's count stays
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        server.close()
        with app.app_context():
            db.engine.dispose()
