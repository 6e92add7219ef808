"""Whatever a browser or a script sends: a clear answer, never a 500, nothing half-stored."""

import pytest
from helpers import csrf_token, sent_mail, submit
from sqlalchemy import func, select

from vigil.extensions import db
from vigil.models import EventStatus, Rsvp


def count_rsvps(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Rsvp))


GOOD = {
    "email": "ada@example.org",
    "name": "Ada",
    "guests": "0",
    "accessibility": "",
    "consent": "y",
}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("email", "", "Please enter your email address."),
        ("email", "not-an-address", "Please enter a valid email address"),
        ("email", "a@b", "Please enter a valid email address"),
        ("email", "x" * 250 + "@example.org", "Field cannot be longer than 254 characters."),
        ("guests", "5", "Guests must be between 0 and 4."),
        ("guests", "-1", "Guests must be between 0 and 4."),
        ("guests", "lots", "Not a valid integer value."),
        ("guests", "9" * 400, "Please enter a smaller number."),
        ("guests", "", "Enter a number of guests"),
        ("name", "n" * 101, "Field cannot be longer than 100 characters."),
        ("name", "Ada\x00Lovelace", "invisible control characters"),
        ("accessibility", "a" * 501, "Field cannot be longer than 500 characters."),
        ("accessibility", "ok\x1bnot", "invisible control characters"),
    ],
)
def test_bad_field_gets_a_message_next_to_it_and_the_typing_back(
    app, client, make_event, field, value, message
):
    event = make_event()
    data = {**GOOD, field: value}
    response = submit(client, f"/events/{event.slug}", f"/events/{event.slug}/rsvp", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html[html.index(f'id="{field}-error"') :]
    assert message in error[: error.index("</p>")]
    assert f'aria-describedby="{field}-hint {field}-error"' in html
    if field != "email":
        assert 'value="ada@example.org"' in html  # the rest of the typing survives
    assert count_rsvps(app) == 0
    assert sent_mail(app) == []


def test_rsvp_to_a_closed_event_is_refused_with_the_reason(app, client, make_event):
    from datetime import UTC, datetime, timedelta

    event = make_event()
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    with app.app_context():
        from vigil.models import Event

        stored = db.session.get(Event, event.id)
        stored.status = EventStatus.CANCELLED
        db.session.commit()
    response = client.post(
        f"/events/{event.slug}/rsvp", data={**GOOD, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 409
    assert "cancelled, so it is not taking RSVPs" in response.get_data(as_text=True)
    assert count_rsvps(app) == 0
    ended = make_event(starts_at=datetime.now(UTC) - timedelta(days=1))
    response = client.post(
        f"/events/{ended.slug}/rsvp", data={**GOOD, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 409
    assert "has ended" in response.get_data(as_text=True)


def test_rsvp_to_unknown_or_draft_event_is_not_found(client, make_event):
    draft = make_event(status=EventStatus.DRAFT)
    assert client.post(f"/events/{draft.slug}/rsvp", data=GOOD).status_code == 404
    assert client.post("/events/nope/rsvp", data=GOOD).status_code == 404


def test_wrong_methods_are_405(client, make_event, make_rsvp):
    event = make_event()
    _, token = make_rsvp(event)
    assert client.get(f"/events/{event.slug}/rsvp").status_code == 405
    assert client.post(f"/events/{event.slug}").status_code == 405
    assert client.put(f"/rsvp/{token}").status_code == 405
    assert client.post("/healthz").status_code == 405


def test_oversized_post_is_413(app, client, make_event):
    event = make_event()
    response = client.post(f"/events/{event.slug}/rsvp", data={"name": "x" * 100_000})
    assert response.status_code == 413
    assert "Too much data" in response.get_data(as_text=True)
    assert count_rsvps(app) == 0


def test_malformed_bodies_never_cause_a_500(app, client, make_event, make_rsvp):
    event = make_event()
    _, token = make_rsvp(event)
    bodies = [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"email=%ff%fe&guests=%00", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken multipart", "multipart/form-data; boundary=x"),
        (b'{"email": "a@b.org"}', "application/json"),
        (b"email=a@b.org&email=c@d.org&guests=1&guests=2", "application/x-www-form-urlencoded"),
    ]
    for body, content_type in bodies:
        for url in (f"/events/{event.slug}/rsvp", f"/rsvp/{token}"):
            response = client.post(url, data=body, content_type=content_type)
            assert 400 <= response.status_code < 500, (url, body, response.status_code)
    assert count_rsvps(app) == 1


def test_unknown_manage_action_is_a_400(client, make_event, make_rsvp):
    event = make_event()
    _, token = make_rsvp(event)
    page = client.get(f"/rsvp/{token}").get_data(as_text=True)
    response = client.post(
        f"/rsvp/{token}", data={"action": "delete-everything", "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 400


def test_hostile_text_is_stored_as_text_and_shown_escaped(app, client, make_event):
    event = make_event()
    hostile = "<script>alert(1)</script>'; DROP TABLE rsvps; --"
    response = submit(
        client, f"/events/{event.slug}", f"/events/{event.slug}/rsvp", {**GOOD, "name": hostile}
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Rsvp.name)) == hostile
    from helpers import manage_link

    html = client.get(manage_link(sent_mail(app)[0])).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_hostile_slugs_are_simply_not_found(client):
    for slug in ("%00", "a%00b", "x" * 5000, "%ff%fe", "..%2f..%2fetc", "' OR '1'='1", "%E2%80%AE"):
        for url in (f"/events/{slug}", f"/events/{slug}/rsvp/done"):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/events/{slug}/rsvp", data=GOOD).status_code == 404


def test_json_and_file_fields_are_not_form_input(app, client, make_event, make_rsvp):
    """Non-text values (numbers, objects, uploads) never reach a validator."""
    import io
    import json

    event = make_event()
    _, token = make_rsvp(event)
    for url in (f"/events/{event.slug}/rsvp", f"/rsvp/{token}"):
        for payload in ({"email": 5}, {"name": 5}, {"email": {"a": 1}}, {"accessibility": True}):
            response = client.post(url, data=json.dumps(payload), content_type="application/json")
            assert response.status_code == 400, (url, payload, response.status_code)
        for field in ("email", "name", "accessibility"):
            response = client.post(
                url, data={field: (io.BytesIO(b"x"), "x.txt")}, content_type="multipart/form-data"
            )
            assert response.status_code == 400, (url, field, response.status_code)
    assert count_rsvps(app) == 1


def test_an_address_that_grows_when_case_folded_is_stored(app, client, make_event):
    event = make_event()
    address = "ΐ" * 64 + "@" + "d" * 60 + "." + "e" * 59 + ".org"
    response = submit(
        client, f"/events/{event.slug}", f"/events/{event.slug}/rsvp", {**GOOD, "email": address}
    )
    assert response.status_code == 303
    assert count_rsvps(app) == 1


def test_a_database_error_logs_no_personal_data(app, make_event, caplog):
    """Even the 500 path must not print submitted values (SQL parameters) into the log."""
    from vigil.extensions import db as vdb

    event = make_event()

    @app.post("/explode")
    def explode():
        vdb.session.execute(
            Rsvp.__table__.insert().values(
                event_id=event.id,
                email="leak@example.org",
                email_key="not-a-real-key",
                name="Leaky Name",
                guests=-5,
                status="confirmed",
                wants_updates=False,
                queued_at=event.starts_at,
                created_at=event.starts_at,
                updated_at=event.starts_at,
            )
        )
        vdb.session.commit()

    response = app.test_client().post("/explode")
    assert response.status_code == 500
    logged = caplog.text.lower()
    assert "integrityerror" in logged and "explode" in logged
    assert "leak@example.org" not in logged and "leaky name" not in logged
