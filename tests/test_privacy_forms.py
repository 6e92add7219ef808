"""Explicit consent, the privacy notice, and the warning about mailboxes the PRC can read."""

import re

import pytest
from helpers import csrf_token, submit
from sqlalchemy import func, select

from vigil.extensions import db
from vigil.models import Rsvp, VolunteerSignup
from vigil.privacy import is_watched_mailbox


def stored(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def rsvp_form(client, event, **data):
    fields = {"email": "ada@example.org", "guests": "0", "consent": "y", **data}
    url = f"/events/{event.slug}"
    return submit(client, url, f"{url}/rsvp", fields)


def test_consent_starts_unticked_and_is_required(app, client, make_event):
    event = make_event()
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="consent"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box and "checked" not in box
    assert 'href="/privacy"' in page
    response = rsvp_form(client, event, consent="", name="Ada")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split('id="consent-error"', 1)[1].split("</p>", 1)[0]
    assert "Please tick the box to agree" in error
    assert 'value="ada@example.org"' in html and 'value="Ada"' in html
    assert stored(app, Rsvp) == 0
    assert rsvp_form(client, event).status_code == 303
    assert stored(app, Rsvp) == 1


def test_volunteers_consent_too(app, client, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    url = f"/events/{event.slug}/volunteer"
    data = {"email": "vol@example.org", "shifts": [str(leaflets)]}
    refused = submit(client, url, url, data)
    assert refused.status_code == 422 and "Please tick the box to agree" in refused.get_data(True)
    assert stored(app, VolunteerSignup) == 0
    assert submit(client, url, url, {**data, "consent": "y"}).status_code == 303


@pytest.mark.parametrize("address", ["lin@qq.com", "Lin@163.COM", "lin@mail.sina.com"])
def test_a_watched_provider_is_warned_about_once_and_then_accepted(
    app, client, make_event, address
):
    event = make_event()
    first = rsvp_form(client, event, email=address)
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "the authorities can read mailboxes" in html
    assert f'value="{address}"' in html  # kept, not refused
    assert stored(app, Rsvp) == 0
    again = client.post(
        f"/events/{event.slug}/rsvp",
        data={
            "csrf_token": csrf_token(html),
            "email": address,
            "guests": "0",
            "consent": "y",
            "mailbox_warning_seen": "1",
        },
    )
    assert again.status_code == 303
    assert stored(app, Rsvp) == 1


def test_other_providers_go_straight_through(app, client, make_event):
    event = make_event()
    for address in ("a@notqq.com", "b@proton.me", "c@qq.com.example.org"):
        assert rsvp_form(client, event, email=address).status_code == 303, address


def test_volunteers_see_the_warning_too(app, client, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    url = f"/events/{event.slug}/volunteer"
    data = {"email": "vol@126.com", "shifts": [str(leaflets)], "consent": "y"}
    first = submit(client, url, url, data)
    assert first.status_code == 200 and "the authorities can read mailboxes" in first.get_data(True)
    assert stored(app, VolunteerSignup) == 0


def test_watched_mailboxes():
    assert is_watched_mailbox("x@qq.com") and is_watched_mailbox("x@vip.163.com")
    assert is_watched_mailbox("x@foxmail.com.")  # a trailing dot is the same domain
    assert not is_watched_mailbox("x@qq.co") and not is_watched_mailbox("x@com")
    assert not is_watched_mailbox(None) and not is_watched_mailbox("no-at-sign")


def test_the_privacy_notice_says_who_why_how_long_and_how_to_erase(app, client):
    app.config.update(VIGIL_RETENTION_DAYS=45, VIGIL_CONTACT_EMAIL="privacy@vigil.example")
    page = client.get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in (
        "Who holds your details",
        "privacy@vigil.example",
        "deleted 45 days after the event ends",
        "erase your RSVP or sign-up at any time",
        "no IP address",
    ):
        assert text in html, text
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)  # linked from every page
