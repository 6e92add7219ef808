"""Generated hostile input for every form and for the domain functions: never a 5xx, and
a refused submission changes nothing stored."""

import os
from datetime import datetime

import pytest
from helpers import csrf_token, login
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from vigil import people, privacy
from vigil.crypto import DataKeys, new_key, parse_keys
from vigil.event_files import EventFileError, parse_event
from vigil.extensions import db
from vigil.models import (
    Event,
    Organiser,
    OutboxMessage,
    Role,
    Rsvp,
    Shift,
    VolunteerSignup,
)
from vigil.people import normalise_email
from vigil.spreadsheets import neutralise

SETTINGS = settings(
    max_examples=int(os.environ.get("VIGIL_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PAYLOADS = [
    "' OR 1=1; DROP TABLE rsvps; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A9)",
    "\x00",
    "a\x00b",
    "\u202egnp.exe",  # right-to-left override
    "\ufeff\u200b\u200d",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ﷽",
    "../../../etc/passwd",
    "\r\nSet-Cookie: x=1",
    "%00%0d%0a",
    "9" * 400,
    "-1",
    "1e309",
    "NaN",
    "inf",
    "2031-13-45T25:61",
    "2031-03-30T01:30",
    "y" * 5000,
    "qq@qq.com",
    "a@b",
    "Mars/Olympus_Mons",
]

# Anything a browser or a script can put in a form field (lone surrogates cannot be
# sent as UTF-8 at all, so they are left out).
hostile = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.sampled_from(PAYLOADS),
)


def form_of(*names: str):
    """Some of the fields, each with hostile text, plus the odd field nobody expects."""
    return st.fixed_dictionaries(
        {}, optional={**{n: hostile for n in names}, "unexpected": hostile}
    )


def snapshot(app) -> tuple:
    """What a refused submission must leave exactly as it was."""
    with app.app_context():
        counts = tuple(
            db.session.scalar(select(func.count()).select_from(m))
            for m in (Event, Rsvp, VolunteerSignup, OutboxMessage, Role, Shift, Organiser)
        )
        revisions = db.session.scalar(select(func.coalesce(func.sum(Event.revision), 0)))
        return (*counts, revisions)


def post_hostile(app, client, page_url: str, url: str, data: dict):
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    before = snapshot(app)
    response = client.post(url, data={**data, "csrf_token": token})
    assert response.status_code < 500, (url, data, response.status_code)
    if response.status_code not in (302, 303):
        assert snapshot(app) == before, (url, data)
    return response


# ---------------------------------------------------------------- public forms


@SETTINGS
@given(
    data=form_of(
        "email",
        "name",
        "guests",
        "accessibility",
        "wants_updates",
        "consent",
        "mailbox_warning_seen",
        "website",
    )
)
def test_the_rsvp_form(app, make_event, data):
    if not _exists(app, "hostile-rsvp"):  # made once, at the first example
        make_event(slug="hostile-rsvp", capacity=5)
    url = "/events/hostile-rsvp"
    post_hostile(app, app.test_client(), url, f"{url}/rsvp", data)


@SETTINGS
@given(data=form_of("email", "name", "phone", "languages", "notes", "consent", "shifts"))
def test_the_volunteer_form(app, make_event, make_roles, data):
    if not _exists(app, "hostile-volunteer"):
        make_roles(make_event(slug="hostile-volunteer"))
    url = "/events/hostile-volunteer/volunteer"
    post_hostile(app, app.test_client(), url, url, data)


@SETTINGS
@given(data=form_of("action", "name", "guests", "accessibility", "wants_updates", "confirm"))
def test_the_rsvp_manage_page(app, make_event, make_rsvp, data):
    event = make_event(capacity=5)
    _, token = make_rsvp(event)
    post_hostile(app, app.test_client(), f"/rsvp/{token}", f"/rsvp/{token}", data)


@SETTINGS
@given(data=form_of("action", "shifts", "shift", "confirm"))
def test_the_volunteer_manage_page(app, make_event, make_roles, data):
    from vigil import volunteers

    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        result = volunteers.sign_up(
            db.session.get(Event, event.id), email="v@example.org", shift_ids=[leaflets]
        )
        token = people.issue_token(result.signup)
        db.session.commit()
    post_hostile(app, app.test_client(), f"/volunteer/{token}", f"/volunteer/{token}", data)


@SETTINGS
@given(data=form_of("email", "password"))
def test_the_log_in_form(app, data):
    post_hostile(app, app.test_client(), "/organiser/login", "/organiser/login", data)


def _exists(app, slug: str) -> bool:
    with app.app_context():
        return db.session.scalar(select(Event.id).where(Event.slug == slug)) is not None


# ---------------------------------------------------------------- organiser forms


@pytest.fixture
def admin(app, make_organiser):
    client = app.test_client()
    assert login(client, make_organiser("admin")).status_code == 303
    return client


EVENT_FIELDS = (
    "title",
    "slug",
    "summary",
    "description",
    "demands",
    "venue",
    "street_address",
    "locality",
    "postcode",
    "transport",
    "latitude",
    "longitude",
    "timezone",
    "starts",
    "ends",
    "capacity",
    "rsvp_opens",
    "rsvp_closes",
    "retention_days",
    "confirm_by_email",
    "confirm",
)


@SETTINGS
@given(data=form_of(*EVENT_FIELDS))
def test_the_new_event_form(app, admin, data):
    post_hostile(app, admin, "/organiser/events/new", "/organiser/events/new", data)


@SETTINGS
@given(data=form_of(*EVENT_FIELDS))
def test_the_event_edit_form(app, admin, make_event, make_rsvp, data):
    event = make_event()
    make_rsvp(event)
    url = f"/organiser/events/{event.slug}/edit"
    post_hostile(app, admin, url, url, data)


@SETTINGS
@given(
    path=st.sampled_from(["walk-up", "attendees", "check-in", "message", "roles"]),
    data=form_of(
        "name",
        "email",
        "guests",
        "accessibility",
        "check_in",
        "q",
        "status",
        "order",
        "page",
        "rsvp",
        "action",
        "audience",
        "subject",
        "body",
        "key",
        "confirm",
        "duty",
        "what_to_bring",
        "briefing",
        "needs_phone",
    ),
)
def test_the_event_pages_forms(app, admin, make_event, path, data):
    event = make_event()
    url = f"/organiser/events/{event.slug}/{path}"
    post_hostile(app, admin, url, url, data)


@SETTINGS
@given(data=form_of("starts", "ends", "capacity", "meeting_point", "note"))
def test_the_shift_form(app, admin, make_event, make_roles, data):
    event = make_event()
    make_roles(event)
    with app.app_context():
        role_id = db.session.scalar(select(Role.id).where(Role.event_id == event.id))
    post_hostile(
        app,
        admin,
        f"/organiser/events/{event.slug}/roles",
        f"/organiser/roles/{role_id}/shifts",
        data,
    )


@SETTINGS
@given(data=form_of("email", "display_name", "role", "password", "active", "events"))
def test_the_account_forms(app, admin, data):
    post_hostile(app, admin, "/organiser/accounts/new", "/organiser/accounts/new", data)
    with app.app_context():
        first = db.session.scalar(select(Organiser.id).order_by(Organiser.id))
    post_hostile(app, admin, f"/organiser/accounts/{first}", f"/organiser/accounts/{first}", data)


# ---------------------------------------------------------------- bodies no form would send


@SETTINGS
@given(
    body=st.binary(max_size=2000),
    kind=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "application/json",
            "text/plain; charset=latin-1",
        ]
    ),
)
def test_raw_bodies_of_any_kind(app, make_event, body, kind):
    if not _exists(app, "hostile-raw"):
        make_event(slug="hostile-raw")
    client = app.test_client()
    before = snapshot(app)
    for url in ("/events/hostile-raw/rsvp", "/organiser/login", "/events/hostile-raw/volunteer"):
        response = client.post(url, data=body, content_type=kind)
        assert response.status_code < 500, (url, body)
    assert snapshot(app) == before  # no CSRF token: nothing can have been stored


# ---------------------------------------------------------------- domain functions


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_encryption_round_trips_any_text(text):
    keys = DataKeys(parse_keys(KEY))
    stored = keys.encrypt(text)
    assert stored.startswith(f"v1:{keys.current_id}:")
    assert keys.decrypt(stored) == text


KEY = new_key()


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(), st.integers(), st.none()))
def test_no_csv_cell_can_start_a_formula(value):
    assert not neutralise(value).startswith(("=", "+", "-", "@", "\t", "\r"))


@settings(max_examples=300, deadline=None)
@given(address=st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_address_functions_take_anything(address):
    assert isinstance(normalise_email(address), str)
    assert isinstance(privacy.is_watched_mailbox(address), bool)


value = st.one_of(
    st.text(max_size=50),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.text(max_size=10), max_size=3),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.dictionaries(
        st.sampled_from(
            [
                "slug",
                "title",
                "venue",
                "street_address",
                "locality",
                "postcode",
                "timezone",
                "starts",
                "ends",
                "capacity",
                "latitude",
                "longitude",
                "demands",
                "status",
                "roles",
                "retention_days",
                "confirm_by_email",
                "rsvp_opens",
                "nonsense",
            ]
        ),
        value,
    )
)
def test_event_files_are_loaded_or_refused_with_a_reason(raw):
    try:
        parse_event(raw)
    except EventFileError as exc:
        assert str(exc)
