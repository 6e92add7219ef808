"""The volunteer flow over HTTP, with CSRF on: sign up, manage, calendar feed, withdraw."""

import html as html_module
import re

import icalendar
import pytest
import vobject
from helpers import assert_unique_ids, csrf_token, sent_mail, submit, text_body
from sqlalchemy import func, select

from vigil.extensions import db
from vigil.models import EventStatus, VolunteerSignup
from vigil.people import email_lookup


def volunteer(client, event, shift_ids, **data):
    fields = {
        "email": "vol@example.org",
        "name": "Lin",
        "phone": "",
        "languages": "",
        "notes": "",
        "shifts": [str(s) for s in shift_ids],
        "consent": "y",
    }
    fields.update(data)
    url = f"/events/{event.slug}/volunteer"
    return submit(client, url, url, fields)


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(VolunteerSignup))


def links_in(msg) -> tuple[str, str]:
    body = text_body(msg)
    manage = re.search(r"http://vigil\.test(/volunteer/[A-Za-z0-9_-]{43})\s", body).group(1)
    feed = re.search(r"http://vigil\.test(/volunteer/[A-Za-z0-9_-]{43}/shifts\.ics)", body)
    return manage, feed.group(1) if feed else None


def test_sign_up_page_lists_roles_and_shifts(client, make_event, make_roles):
    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    html = client.get(f"/events/{event.slug}/volunteer").get_data(as_text=True)
    # one level below the page's h1 (axe's heading-order rule)
    assert "<h2>Steward</h2>" in html and "<h2>Leafleting</h2>" in html
    assert "This role needs a phone number." in html
    assert f'id="shift-{during}"' in html and "Places available" in html
    assert_unique_ids(html)
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert f'href="/events/{event.slug}/volunteer"' in page
    assert "We still need people for: Steward, Leafleting." in page


def test_sign_up_flow_email_manage_page_and_personal_feed(app, client, make_event, make_roles):
    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    response = volunteer(client, event, [during], phone="+44 7700 900123", languages="Mandarin")
    assert response.status_code == 303
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Check your email" in done and "/volunteer/" not in done.split("<main")[1]
    (asked,) = sent_mail(app)
    manage, feed = links_in(asked)
    assert feed is None  # no shift is theirs yet, so no calendar
    page = client.get(manage)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Confirm that you want to volunteer" in html and "The shifts you asked for" in html
    assert "Add a shift" not in html and "feed-heading" not in html
    assert_unique_ids(html)
    confirmed = submit(client, manage, manage, {"action": "confirm"})
    assert confirmed.status_code == 303
    html = client.get(manage).get_data(as_text=True)
    assert "you are signed up, and the shifts are yours" in html
    assert "Steward" in html and "Meet at: By the railings" in html
    assert "Confirm that you want to volunteer" not in html
    assert_unique_ids(html)
    _, msg = sent_mail(app)
    _, feed = links_in(msg)
    assert f"webcal://vigil.test{feed}" in text_body(msg)  # opens as a subscription

    ics = client.get(feed)
    assert ics.status_code == 200
    assert ics.headers["Cache-Control"] == "private, no-cache"
    assert ics.headers["X-Robots-Tag"] == "noindex"
    (vevent,) = icalendar.Calendar.from_ical(ics.data).walk("VEVENT")
    assert str(vevent["UID"]).startswith("shift-") and "Steward" in str(vevent["SUMMARY"])
    assert vobject.readOne(ics.data.decode()).vevent.summary.value == str(vevent["SUMMARY"])
    assert b"vol@example.org" not in ics.data and b"Lin" not in ics.data

    # A new calendar address replaces the old one, and is shown once.
    renewed = submit(client, manage, manage, {"action": "feed"})
    assert renewed.status_code == 200
    new_feed = re.search(
        r'value="http://vigil\.test(/volunteer/[^"]+/shifts\.ics)"', renewed.get_data(as_text=True)
    ).group(1)
    assert client.get(feed).status_code == 404
    assert client.get(new_feed).status_code == 200
    assert "shifts.ics" not in client.get(manage).get_data(as_text=True).split("feed-heading")[1]

    added = submit(client, manage, manage, {"action": "add", "shifts": [str(leaflets)]})
    assert added.status_code == 422
    assert "overlap in time" in added.get_data(as_text=True)
    added = submit(client, manage, manage, {"action": "add", "shifts": [str(before)]})
    assert added.status_code == 303
    dropped = submit(client, manage, manage, {"action": "drop", "shift": str(during)})
    assert dropped.status_code == 303
    html = client.get(manage).get_data(as_text=True)
    assert "The shift has been dropped" in html

    refused = submit(client, manage, manage, {"action": "withdraw"})
    assert refused.status_code == 422
    gone = submit(client, manage, manage, {"action": "withdraw", "confirm": "y"})
    assert gone.status_code == 303 and count(app) == 0
    assert client.get(manage).status_code == 404
    assert client.get(new_feed).status_code == 404


@pytest.mark.parametrize(
    "shifts, extra, field, message",
    [
        (lambda ids: [], {}, "shifts", "Choose at least one shift."),
        (lambda ids: ["999999"], {}, "shifts", "Choose shifts from this event's list."),
        (lambda ids: [ids["leaflets"], ids["leaflets"]], {}, "shifts", "only once"),
        (lambda ids: ["x"], {}, "shifts", "Invalid choice"),
        (lambda ids: [ids["during"]], {}, "phone", "needs a phone number"),
        (lambda ids: [ids["before"]], {"phone": "0123456"}, "shifts", "already started"),
        (lambda ids: [ids["leaflets"]], {"phone": "call me"}, "phone", "digits"),
        (lambda ids: [ids["leaflets"]], {"languages": "x" * 201}, "languages", "longer than 200"),
        (lambda ids: [ids["leaflets"]], {"email": "nope"}, "email", "valid email"),
        (lambda ids: [ids["leaflets"]], {"notes": "a\x00b"}, "notes", "control characters"),
    ],
)
def test_bad_input_is_explained_next_to_the_field(
    app, client, make_event, make_roles, shifts, extra, field, message
):
    from datetime import UTC, datetime, timedelta

    event = make_event(starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30))
    (before, during), (leaflets,) = make_roles(event)
    ids = {"before": str(before), "during": str(during), "leaflets": str(leaflets)}
    response = volunteer(client, event, [], **{"shifts": shifts(ids), **extra})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html[html.index(f'id="{field}-error"') :]
    assert message in html_module.unescape(error[: error.index("</p>")])
    assert 'value="Lin"' in html  # typing kept
    assert count(app) == 0 and sent_mail(app) == []


def test_a_shift_of_another_event_is_refused(app, client, make_event, make_roles):
    event, other = make_event(), make_event()
    make_roles(event)
    _, (foreign,) = make_roles(other)
    response = volunteer(client, event, [foreign])
    assert response.status_code == 422
    assert count(app) == 0


def test_repeat_sign_up_gets_exactly_the_same_response(app, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    first, second, fresh = app.test_client(), app.test_client(), app.test_client()
    volunteer(first, event, [leaflets], email="known@example.org")
    repeat = volunteer(second, event, [leaflets], email="known@example.org", name="Other")
    new = volunteer(fresh, event, [leaflets], email="new@example.org")
    assert repeat.status_code == new.status_code == 303
    assert repeat.headers["Location"] == new.headers["Location"]
    assert second.get(repeat.headers["Location"]).data == fresh.get(new.headers["Location"]).data
    assert count(app) == 2


def test_closed_events_and_bad_tokens(app, client, make_event, make_roles):
    event = make_event(status=EventStatus.CANCELLED)
    _, (leaflets,) = make_roles(event)
    html = client.get(f"/events/{event.slug}/volunteer").get_data(as_text=True)
    assert "not taking volunteers" in html
    page = client.get(f"/events/{make_event().slug}").get_data(as_text=True)  # any form
    response = client.post(
        f"/events/{event.slug}/volunteer",
        data={
            "csrf_token": csrf_token(page),
            "email": "a@b.org",
            "shifts": str(leaflets),
            "consent": "y",
        },
    )
    assert response.status_code == 409
    for token in ("x", "A" * 43):
        assert client.get(f"/volunteer/{token}").status_code == 404
        assert client.get(f"/volunteer/{token}/shifts.ics").status_code == 404
    draft = make_event(status=EventStatus.DRAFT)
    assert client.get(f"/events/{draft.slug}/volunteer").status_code == 404


def test_volunteer_forms_need_a_csrf_token(app, client, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    data = {"email": "a@example.org", "shifts": str(leaflets)}
    response = client.post(f"/events/{event.slug}/volunteer", data=data)
    assert response.status_code == 400
    assert "This form had expired" in response.get_data(as_text=True)
    assert count(app) == 0


def test_ids_beyond_the_database_integer_are_unknown_not_a_500(app, client, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    for huge in ("2147483648", "99999999999999999999", "-1", "0"):
        response = volunteer(client, event, [huge])
        assert response.status_code == 422, huge
        assert "Choose shifts from this event" in html_module.unescape(
            response.get_data(as_text=True)
        )
    assert count(app) == 0


def test_a_phone_is_kept_only_while_a_role_needs_it(app, client, make_event, make_roles):
    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    volunteer(client, event, [leaflets], phone="+44 7700 900999")
    with app.app_context():
        assert db.session.scalar(select(VolunteerSignup.phone)) is None
    volunteer(
        app.test_client(), event, [before], email="steward@example.org", phone="+44 7700 900111"
    )
    (_, msg) = sent_mail(app)
    manage, _feed = links_in(msg)
    steward = app.test_client()
    submit(steward, manage, manage, {"action": "confirm"})
    submit(steward, manage, manage, {"action": "add", "shifts": [str(leaflets)]})
    submit(steward, manage, manage, {"action": "drop", "shift": str(before)})
    with app.app_context():
        phones = db.session.scalars(
            select(VolunteerSignup.phone).where(
                VolunteerSignup.email_key == email_lookup("steward@example.org")
            )
        )
        assert list(phones) == [None]  # no role that needs it is left


def test_new_known_and_script_sign_ups_get_the_same_answer_and_pages(app, make_event, make_roles):
    """A shift with one place left: a sign-up from a new address, from one that has
    signed up, and from a script that filled the honeypot must leave an outsider
    with the same answer and the same public pages; none takes the place."""
    event = make_event()
    _, (leaflets,) = make_roles(
        event, spec=[({"name": "Steward"}, [(0, 1, 1)]), ({"name": "Leafleting"}, [(0, 1, 2)])]
    )
    holder = app.test_client()
    volunteer(holder, event, [leaflets], email="target@example.org")
    manage = re.search(
        r"http://vigil\.test(/volunteer/[A-Za-z0-9_-]{43})\s", text_body(sent_mail(app)[0])
    )
    submit(holder, manage.group(1), manage.group(1), {"action": "confirm"})  # one place left

    def what_an_outsider_sees(**post):
        outsider = app.test_client()
        answer = volunteer(outsider, event, [leaflets], **post)
        pages = [
            answer.status_code,
            outsider.get(answer.headers["Location"]).text,
            outsider.get(f"/events/{event.slug}/volunteer").text,
            outsider.get(f"/events/{event.slug}").text,
        ]
        token = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')
        return [token.sub("", p) if isinstance(p, str) else p for p in pages]

    first = what_an_outsider_sees(email="stranger@example.org")
    assert first[0] == 303 and "Check your email" in first[1] and "Places available" in first[2]
    assert what_an_outsider_sees(email="target@example.org") == first
    assert what_an_outsider_sees(email="bot@example.org", website="http://spam.example") == first
    assert what_an_outsider_sees(email="another@example.org") == first
    with app.app_context():
        statuses = sorted(db.session.scalars(select(VolunteerSignup.status)))
    assert statuses == ["active", "pending", "pending"]


def test_a_volunteer_changes_their_details_on_the_private_page(app, client, make_event, make_roles):
    """Name, languages, phone and notes, shown and changeable; a role that needs a phone
    keeps needing it, and a refused change keeps what was typed."""
    event = make_event()
    (before, _), (leaflets,) = make_roles(event)
    volunteer(client, event, [before], phone="+44 7700 900111", languages="English")
    manage, _ = links_in(sent_mail(app)[0])
    submit(client, manage, manage, {"action": "confirm"})
    page = client.get(manage).text
    assert 'value="Lin"' in page and 'value="English"' in page and "+44 7700 900111" in page
    assert_unique_ids(page)
    form = {
        "action": "details",
        "details-csrf_token": csrf_token(page),  # the form's own field, as a browser sends it
        "details-name": "Lin W.",
        "details-languages": "English, Cantonese",
        "details-phone": "",
        "details-notes": "Arriving at 10:30",
    }
    refused = client.post(manage, data=form)
    assert refused.status_code == 422 and "needs a phone number" in refused.text
    assert 'value="Lin W."' in refused.text  # what was typed stays
    saved = client.post(manage, data={**form, "details-phone": "+44 7700 900222"})
    assert saved.status_code == 303
    assert "Your details have been saved." in client.get(manage).text
    with app.app_context():
        signup = db.session.scalar(select(VolunteerSignup))
        assert (signup.name, signup.languages, signup.phone, signup.notes) == (
            "Lin W.",
            "English, Cantonese",
            "+44 7700 900222",
            "Arriving at 10:30",
        )


def test_the_personal_feed_changes_its_etag_when_a_role_is_edited(
    app, client, make_event, make_roles
):
    """A role renamed, or given something new to bring, changes the feed's body: its
    ETag must change with it, or calendar apps are told 304 and keep the old text."""
    from vigil import shift_editing
    from vigil.models import Role

    event = make_event()
    _, (leaflets,) = make_roles(event)
    volunteer(client, event, [leaflets])
    manage, _ = links_in(sent_mail(app)[0])
    submit(client, manage, manage, {"action": "confirm"})
    _, feed = links_in(sent_mail(app)[1])
    first = client.get(feed)
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "Leafleting"))
        shift_editing.update_role(role, what_to_bring="A torch")
        db.session.commit()
    again = client.get(feed, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and b"A torch" in again.data
    assert again.headers["ETag"] != first.headers["ETag"]
    same = client.get(feed, headers={"If-None-Match": again.headers["ETag"]})
    assert same.status_code == 304


def test_a_form_with_mistakes_lists_them_all_at_the_top_and_says_so_in_the_title(
    app, client, make_event, make_roles
):
    """Every problem at once (the missing address and the missing shift, not one after
    the other), in a summary at the top that links to each field and takes the focus,
    with "Error:" in the title; the email field comes first."""
    event = make_event()
    make_roles(event)
    url = f"/events/{event.slug}/volunteer"
    page = client.get(url).text
    assert "<title>Error:" not in page and 'id="error-summary"' not in page
    assert page.index('id="email"') < page.index('id="shifts"')
    response = submit(client, url, url, {"email": "", "consent": "y", "name": "Typed"})
    assert response.status_code == 422
    html = response.text
    assert re.search(r"<title>Error: ", html)
    summary = html[
        html.index('id="error-summary"') : html.index("</div>", html.index('id="error-summary"'))
    ]
    assert (
        "autofocus"
        in html[
            html.index("<div", html.index("error-summary") - 80) : html.index('id="error-summary"')
        ]
    )
    assert 'href="#email"' in summary and 'href="#shifts"' in summary
    assert "Choose at least one shift." in summary
    assert 'value="Typed"' in html  # what was typed stays
    assert_unique_ids(html)
