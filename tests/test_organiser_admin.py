"""Admins manage accounts and read the audit trail; every organiser route keeps to its role."""

import pytest
from conftest import PASSWORD, WHO
from helpers import csrf_token, login

from vigil import volunteers
from vigil.extensions import db
from vigil.models import AuditEntry, Event, EventMember, Organiser


def account(app, email) -> Organiser:
    with app.app_context():
        found = db.session.scalar(db.select(Organiser).where(Organiser.email == email))
        db.session.expunge(found)
        return found


def test_an_admin_creates_an_account_that_can_then_log_in(app, signed_in):
    client = signed_in("admin")
    page = client.get("/organiser/accounts/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "email": "new.steward@vigil.example",
        "display_name": "Mei",
        "role": "steward",
        "password": "short",
    }
    weak = client.post("/organiser/accounts/new", data=data)
    assert weak.status_code == 422
    assert "Passwords must be 12 to 128 characters long." in weak.get_data(as_text=True)
    assert 'value="new.steward@vigil.example"' in weak.get_data(as_text=True)
    created = client.post("/organiser/accounts/new", data={**data, "password": PASSWORD})
    assert created.status_code == 303
    taken = client.post("/organiser/accounts/new", data={**data, "password": PASSWORD})
    assert taken.status_code == 422
    assert "An account with that address exists already." in taken.get_data(as_text=True)
    assert account(app, "new.steward@vigil.example").role == "steward"
    assert login(app.test_client(), "new.steward@vigil.example").status_code == 303
    listing = client.get("/organiser/accounts").get_data(as_text=True)
    assert "Mei" in listing and "new.steward@vigil.example" in listing


def test_an_admin_gives_events_changes_roles_and_disables_which_ends_sessions(
    app, make_event, make_organiser, signed_in
):
    event, other = make_event(), make_event()
    client = signed_in("admin")
    email = make_organiser("steward", [other])
    theirs = app.test_client()
    assert login(theirs, email).status_code == 303
    target = account(app, email)
    url = f"/organiser/accounts/{target.id}"
    page = client.get(url).get_data(as_text=True)
    assert f'value="{other.id}" id="event-{other.id}" checked' in page
    data = {
        "csrf_token": csrf_token(page),
        "role": "organiser",
        "active": "y",
        "events": [event.id],
    }
    assert client.post(url, data=data).status_code == 303
    with app.app_context():
        members = db.session.scalars(
            db.select(EventMember.event_id).where(EventMember.organiser_id == target.id)
        ).all()
    assert members == [event.id]
    assert account(app, email).role == "organiser"
    assert theirs.get("/organiser/").status_code == 302  # the role change logged them out
    assert login(theirs, email).status_code == 303
    assert theirs.get(f"/organiser/events/{event.slug}/edit").status_code == 200
    # a new password and a disable
    assert client.post(url, data={**data, "password": "short"}).status_code == 422
    assert (
        client.post(url, data={**data, "active": "", "password": "a new long password"}).status_code
        == 303
    )
    assert theirs.get("/organiser/").status_code == 302
    assert login(theirs, email, "a new long password").status_code == 401
    with app.app_context():
        assert db.session.scalars(db.select(AuditEntry.action)).all().count("change account") == 2


def test_an_admin_cannot_demote_or_disable_themselves(app, make_organiser, log_in):
    email = make_organiser("admin")
    client = log_in(email)
    me = account(app, email)
    url = f"/organiser/accounts/{me.id}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    for data in ({"role": "organiser", "active": "y"}, {"role": "admin", "active": ""}):
        refused = client.post(url, data={"csrf_token": token, **data})
        assert refused.status_code == 422
        assert "cannot take away your own admin role" in refused.get_data(as_text=True)
    assert account(app, email).role == "admin" and account(app, email).active


def test_the_audit_log_shows_who_did_what_but_no_personal_data(
    app, make_event, make_rsvp, make_organiser, signed_in
):
    event = make_event()
    make_rsvp(event, email="secret.person@example.org", name="Secret Name")
    organiser = make_organiser("organiser", [event])
    worker = app.test_client()
    login(worker, organiser)
    worker.get(f"/organiser/events/{event.slug}/attendees")
    worker.get(f"/organiser/events/{event.slug}/attendees.csv")
    client = signed_in("admin")
    html = client.get("/organiser/audit").get_data(as_text=True)
    assert "view attendee list" in html and "export attendee list" in html
    assert event.title in html and "Organiser" in html
    assert "secret.person" not in html and "Secret Name" not in html
    assert client.get("/organiser/audit?page=999").status_code == 200
    assert client.get("/organiser/audit?page=-1").status_code == 200


# ---------------------------------------------------------------- every route, every role

# What each kind of route lets through: anonymous people are sent to log in; a
# person outside the event gets 404 (it does not exist for them), outside their
# role 403.
REFUSED = {
    "login": {"anonymous": 302},
    "create": {"anonymous": 302, "steward": 403},
    "see": {"anonymous": 302, "other": 404},
    "manage": {"anonymous": 302, "steward": 403, "other": 404},
    "admin": {"anonymous": 302, "steward": 403, "other": 403, "organiser": 403},
}

ROUTES = {
    "organiser.dashboard": "login",
    "organiser.logout": "login",
    "organiser.two_step": "login",
    "organiser.check_in": "see",
    "organiser.check_in_sheet": "manage",
    "organiser.attendee_list": "manage",
    "organiser.attendee_csv": "manage",
    "organiser.message": "manage",
    "organiser.roles": "manage",
    "organiser.roster": "manage",
    "organiser.roster_csv": "manage",
    "organiser.edit_role": "manage",
    "organiser.remove_role": "manage",
    "organiser.add_shift": "manage",
    "organiser.edit_shift": "manage",
    "organiser.remove_shift": "manage",
    "organiser.new_event": "create",
    "organiser.edit_event": "manage",
    "organiser.duplicate_event": "manage",
    "organiser.change_status": "manage",
    "organiser.add_walk_up": "manage",
    "organiser.cancel_rsvp": "manage",
    "organiser.promote_rsvp": "manage",
    "organiser.accounts": "admin",
    "organiser.new_account": "admin",
    "organiser.edit_account": "admin",
    "organiser.audit_log": "admin",
}


def test_the_table_names_every_organiser_route(app):
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/organiser")}
    routes -= {"organiser.login", "organiser.login_code"}  # the steps of logging in
    assert routes == set(ROUTES)


def test_every_organiser_view_wears_the_one_permission_check(app):
    views = {
        r.endpoint: app.view_functions[r.endpoint]
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/organiser")
    }
    assert [e for e, view in views.items() if not hasattr(view, "need")] == []


@pytest.fixture
def world(app, make_event, make_roles, make_rsvp, accounts_for):
    """One event with a role, a shift and an RSVP, and one account of each kind towards it."""
    event = make_event()
    (shift_id, _), _ = make_roles(event)
    rsvp, _ = make_rsvp(event)
    with app.app_context():
        role_id = volunteers.event_roles(db.session.get(Event, event.id))[0].id
    accounts = accounts_for(event)
    target = account(app, accounts["steward"]).id
    ids = {
        "slug": event.slug,
        "role_id": role_id,
        "shift_id": shift_id,
        "rsvp_id": rsvp.id,
        "account_id": target,
        "action": "cancel",
    }
    return ids, accounts


def _path(app, endpoint, ids):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{k: ids[k] for k in rule.arguments}), rule.methods


@pytest.mark.parametrize("who", WHO)
def test_every_organiser_route_keeps_to_its_role(app, world, visitor, who):
    """GET where a route has it, else a POST with a valid CSRF token and no fields."""
    ids, accounts = world
    client, token = visitor(accounts.get(who))
    for endpoint, kind in ROUTES.items():
        if endpoint == "organiser.logout":
            continue  # logging out is checked last: it ends the session
        path, methods = _path(app, endpoint, ids)
        if "GET" in methods:
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token})
        expected = REFUSED[kind].get(who)
        if expected is None:
            assert response.status_code not in (302, 401, 403, 404), (endpoint, response.status)
        else:
            assert response.status_code == expected, (endpoint, response.status)
            if expected == 302:
                assert "/organiser/login" in response.headers["Location"]
    logout = client.post("/organiser/logout", data={"csrf_token": token})
    assert logout.status_code in (302, 303)
    assert client.get("/organiser/").status_code == 302
