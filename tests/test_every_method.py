"""Every route answers every method a browser or a script can send without a 5xx:
anonymous or logged in, with real ids and tokens in the path. HEAD is a GET
without the body, never a change."""

import re

import pytest
from helpers import confirmed_sign_up

from vigil import people
from vigil.extensions import db
from vigil.models import Event, Rsvp, VolunteerSignup

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def paths(app, values: dict[str, str]) -> list[str]:
    found = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^>:]*:)?{name}(?:\([^)]*\))?>", values.get(name, "1"), path)
        found.append(path)
    return sorted(set(found))


@pytest.fixture
def world(app, make_event, make_roles, make_rsvp):
    event = make_event(capacity=10)
    _, (leaflets,) = make_roles(event)
    rsvp, rsvp_token = make_rsvp(event)
    with app.app_context():
        signup = confirmed_sign_up(
            db.session.get(Event, event.id), email="v@example.org", shift_ids=[leaflets]
        ).signup
        signup = db.session.get(VolunteerSignup, signup.id)
        volunteer_token = people.issue_token(signup)
        feed_token = people.rotate_feed_token(signup)
        db.session.commit()
    return (
        event,
        {
            "slug": event.slug,
            "rsvp_id": str(rsvp.id),
            "shift_id": str(leaflets),
            "filename": "style.css",
        },
        {"/rsvp/": rsvp_token, "/volunteer/": volunteer_token, "feed": feed_token},
    )


def _with_tokens(path: str, tokens: dict) -> str:
    if path.endswith("/shifts.ics"):
        return path.replace("/1/", f"/{tokens['feed']}/")
    for prefix in ("/rsvp/", "/volunteer/"):
        if path.startswith(prefix):
            return prefix + tokens[prefix] + path[len(prefix) + 1 :]
    return path


@pytest.mark.parametrize("who", ["anonymous", "organiser"])
def test_no_method_on_any_route_gets_a_5xx(app, world, signed_in, who):
    event, values, tokens = world
    client = app.test_client() if who == "anonymous" else signed_in("organiser", [event])
    failures = []
    for path in paths(app, values):
        path = _with_tokens(path, tokens)
        for method in METHODS:
            with client.open(path, method=method) as response:  # closed, as a server does
                if response.status_code >= 500:
                    failures.append((method, path, response.status_code))
    assert failures == []


def test_head_on_a_private_page_is_a_get_and_changes_nothing(app, make_event, make_rsvp):
    event = make_event(capacity=10)
    rsvp, token = make_rsvp(event)
    client = app.test_client()
    get = client.get(f"/rsvp/{token}")
    head = client.head(f"/rsvp/{token}", data={"action": "cancel"})
    assert head.status_code == get.status_code == 200
    assert head.get_data() == b"" and head.headers["Content-Type"] == get.headers["Content-Type"]
    with app.app_context():
        assert db.session.get(Rsvp, rsvp.id).status == "confirmed"
