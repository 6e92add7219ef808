"""A calendar app polling the public feed is answered 304 before Flask is entered,
with exactly the answer Flask gave, and only while the feed has not changed."""

from contextlib import contextmanager

import pytest
from flask import request_started

from vigil.extensions import db
from vigil.models import Event


@contextmanager
def requests_seen_by_flask(app):
    seen = []

    def started(sender, **extra):
        seen.append(1)

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


def poll(client, etag, **headers):
    return client.get("/calendar.ics", headers={"If-None-Match": etag, **headers})


def test_a_repeated_poll_gets_flasks_own_304_without_flask(app, client, make_event):
    make_event()
    etag = client.get("/calendar.ics").headers["ETag"]
    with requests_seen_by_flask(app) as seen:
        first = poll(client, etag)
        again = poll(client, etag)
        head = client.head("/calendar.ics", headers={"If-None-Match": etag})
    assert first.status_code == again.status_code == head.status_code == 304
    assert len(seen) == 1  # the first went through Flask, the others did not
    assert list(again.headers.items()) == list(first.headers.items())
    assert again.headers["ETag"] == etag and again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=300"
    assert "Content-Security-Policy" in again.headers


def test_a_change_ends_the_replay_at_once(app, client, make_event):
    event = make_event()
    etag = client.get("/calendar.ics").headers["ETag"]
    poll(client, etag)
    with app.app_context():
        db.session.get(Event, event.id).title = "Moved to Parliament Square"
        db.session.commit()
    response = poll(client, etag)
    assert response.status_code == 200 and b"Moved to Parliament Square" in response.data
    assert response.headers["ETag"] != etag


@pytest.mark.parametrize(
    "headers, path",
    [
        ({"cookie": "theme=dark"}, "/calendar.ics"),
        ({}, "/calendar.ics?x=1"),
        ({"If-None-Match": '"another"'}, "/calendar.ics"),
    ],
)
def test_anything_else_goes_to_flask(app, client, make_event, headers, path):
    make_event()
    etag = client.get("/calendar.ics").headers["ETag"]
    poll(client, etag)
    headers = dict(headers)
    if "cookie" in headers:
        name, _, value = headers.pop("cookie").partition("=")
        client.set_cookie(name, value)
    with requests_seen_by_flask(app) as seen:
        response = client.get(path, headers={"If-None-Match": etag, **headers})
    assert len(seen) == 1
    expected = 200 if "another" in headers.get("If-None-Match", "") else 304
    assert response.status_code == expected
