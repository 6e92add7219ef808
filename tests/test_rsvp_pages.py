"""The RSVP flow through HTTP, with CSRF on, as a person with a phone and an inbox."""

import re

from helpers import csrf_token, manage_link, sent_mail, submit
from sqlalchemy import func, select

from vigil.extensions import db
from vigil.models import Rsvp


def rsvp(client, event, **data):
    fields = {
        "email": "ada@example.org",
        "name": "",
        "guests": "0",
        "accessibility": "",
        "consent": "y",
    }
    fields.update(data)
    url = f"/events/{event.slug}"
    return submit(client, url, f"{url}/rsvp", fields)


def count_rsvps(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Rsvp))


def test_rsvp_redirects_to_a_page_that_says_there_is_a_place(app, client, make_event):
    event = make_event()  # no limit: the place is taken at once
    response = rsvp(client, event, name="Ada", guests="1", wants_updates="y")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/events/{event.slug}/rsvp/done"
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have a place." in done
    assert "on its way to your email" in done
    assert "/rsvp/" not in re.sub(r'/events/[^"]+', "", done)  # never the manage link itself
    (msg,) = sent_mail(app)
    assert manage_link(msg).split("/")[2] not in done


def test_limited_places_ask_the_person_to_confirm_from_their_email(app, client, make_event):
    event = make_event(capacity=10)
    response = rsvp(client, event)
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<title>Check your email" in done and "You have a place" not in done
    assert "Places go to people in the order they confirm" in done
    (msg,) = sent_mail(app)
    assert manage_link(msg).split("/")[2] not in done


def test_repeat_rsvp_gets_exactly_the_same_response_as_a_new_one(app, make_event):
    event = make_event(capacity=10)
    first_client, second_client, new_client = (
        app.test_client(),
        app.test_client(),
        app.test_client(),
    )
    rsvp(first_client, event, email="known@example.org")
    repeat = rsvp(second_client, event, email="known@example.org", name="Other")
    fresh = rsvp(new_client, event, email="unknown@example.org")
    assert repeat.status_code == fresh.status_code == 303
    assert repeat.headers["Location"] == fresh.headers["Location"]
    assert repeat.get_data() == fresh.get_data()
    repeat_page = second_client.get(repeat.headers["Location"]).get_data(as_text=True)
    fresh_page = new_client.get(fresh.headers["Location"]).get_data(as_text=True)
    assert repeat_page == fresh_page
    assert count_rsvps(app) == 2


def test_manage_link_from_the_email_lets_the_person_change_cancel_restore_and_erase(
    app, client, make_event
):
    event = make_event(capacity=10)
    rsvp(client, event, name="Ada", guests="1")
    link = manage_link(sent_mail(app)[0])
    assert submit(client, link, link, {"action": "confirm"}).status_code == 303

    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "You have a place, for yourself and 1 guest." in html
    assert 'value="Ada"' in html
    assert page.headers["Cache-Control"] == "no-store"

    changed = submit(
        client,
        link,
        link,
        {"action": "update", "name": "Ada L.", "guests": "3", "accessibility": "Step-free, please"},
    )
    assert changed.status_code == 303
    html = client.get(link).get_data(as_text=True)
    assert "Your RSVP has been updated." in html
    assert "for yourself and 3 guests" in html
    assert "Step-free, please" in html

    cancelled = submit(client, link, link, {"action": "cancel"})
    assert cancelled.status_code == 303
    html = client.get(link).get_data(as_text=True)
    assert "You have cancelled this RSVP." in html
    assert "Undo cancellation" in html

    submit(client, link, link, {"action": "restore"})
    assert "You have a place" in client.get(link).get_data(as_text=True)

    refused = submit(client, link, link, {"action": "erase"})
    assert refused.status_code == 422
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    assert count_rsvps(app) == 1

    erased = submit(client, link, link, {"action": "erase", "confirm": "y"})
    assert erased.status_code == 303
    assert erased.headers["Location"] == f"/events/{event.slug}"
    assert "have been erased" in client.get(erased.headers["Location"]).get_data(as_text=True)
    assert count_rsvps(app) == 0
    assert client.get(link).status_code == 404


def test_too_many_guests_on_the_manage_page_is_explained_next_to_the_field(
    app, client, make_event, make_rsvp
):
    event = make_event(capacity=3)
    _, token = make_rsvp(event)
    make_rsvp(event)
    link = f"/rsvp/{token}"
    response = submit(client, link, link, {"action": "update", "name": "Typed", "guests": "2"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert re.search(r'id="guests-error">Only 1 more place', html)
    assert 'value="Typed"' in html
    with app.app_context():
        assert db.session.scalar(select(Rsvp.guests).limit(1)) == 0


def test_unknown_or_malformed_manage_tokens_are_not_found(client):
    for token in ("x", "A" * 43, "%00" * 10, "a" * 500):
        response = client.get(f"/rsvp/{token}")
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)


def test_manage_page_of_a_past_event_offers_only_erasure(client, make_event, make_rsvp):
    from datetime import UTC, datetime

    event = make_event(starts_at=datetime(2017, 12, 10, 11, tzinfo=UTC))
    _, token = make_rsvp(event)
    html = client.get(f"/rsvp/{token}").get_data(as_text=True)
    assert "has ended" in html
    assert "Cancel my RSVP" not in html
    assert "Erase my RSVP" in html
    response = submit(client, f"/rsvp/{token}", f"/rsvp/{token}", {"action": "cancel"})
    assert response.status_code == 409
    assert "can no longer be changed" in response.get_data(as_text=True)


def test_done_page_without_an_rsvp_goes_back_to_the_event(client, make_event):
    event = make_event()
    response = client.get(f"/events/{event.slug}/rsvp/done")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/events/{event.slug}"


def test_csrf_token_is_required_and_typing_is_kept(app, client, make_event):
    event = make_event()
    client.get(f"/events/{event.slug}")
    data = {"email": "ada@example.org", "name": "Ada Typed", "guests": "1"}
    response = client.post(f"/events/{event.slug}/rsvp", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form had expired" in html
    assert 'value="ada@example.org"' in html and 'value="Ada Typed"' in html
    wrong = client.post(f"/events/{event.slug}/rsvp", data={**data, "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert count_rsvps(app) == 0
    assert sent_mail(app) == []


def test_manage_actions_need_a_csrf_token(app, client, make_event, make_rsvp):
    event = make_event()
    _, token = make_rsvp(event)
    for action in ("update", "cancel", "erase"):
        response = client.post(
            f"/rsvp/{token}", data={"action": action, "confirm": "y", "guests": "0"}
        )
        assert response.status_code == 400, action
    assert count_rsvps(app) == 1


def test_a_token_from_another_session_is_refused(app, make_event):
    event = make_event()
    other = app.test_client()
    token = csrf_token(other.get(f"/events/{event.slug}").get_data(as_text=True))
    me = app.test_client()
    me.get(f"/events/{event.slug}")
    response = me.post(
        f"/events/{event.slug}/rsvp", data={"csrf_token": token, "email": "a@b.org", "guests": "0"}
    )
    assert response.status_code == 400
    assert count_rsvps(app) == 0


def test_every_page_of_the_flow_has_unique_ids(app, client, make_event):
    from helpers import assert_unique_ids

    event = make_event(capacity=5)
    assert_unique_ids(client.get(f"/events/{event.slug}").get_data(as_text=True))
    invalid = rsvp(client, event, email="nope")
    assert_unique_ids(invalid.get_data(as_text=True))
    done = rsvp(client, event)
    assert_unique_ids(client.get(done.headers["Location"]).get_data(as_text=True))
    link = manage_link(sent_mail(app)[0])
    assert_unique_ids(client.get(link).get_data(as_text=True))
    submit(client, link, link, {"action": "cancel"})
    assert_unique_ids(client.get(link).get_data(as_text=True))


def test_rsvp_mistakes_are_summarised_at_the_top_with_error_in_the_title(client, make_event):
    event = make_event()
    response = rsvp(client, event, email="not an address", guests="99", consent="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r"<title>Error: ", html)
    start = html.index('id="error-summary"')
    summary = html[start : html.index("</div>", start)]
    for field_id in ("email", "guests", "consent"):
        assert f'href="#{field_id}"' in summary, field_id
    assert 'id="email"' in html and 'value="not an address"' in html
