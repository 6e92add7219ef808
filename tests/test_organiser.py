"""The organisers' area: accounts, log-in and its throttling, sessions, permissions, rosters."""

import csv
import io
import re

import pytest
from conftest import PASSWORD
from helpers import audited, client_from, confirmed_sign_up, csrf_token, login

from vigil import shift_editing, volunteers
from vigil.extensions import db
from vigil.models import Event, Organiser


def test_cli_creates_lists_and_disables_accounts(app, runner):
    result = runner.invoke(
        args=["organiser", "create", "lead@vigil.example", "--role", "admin", "--name", "Lead"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    weak = runner.invoke(
        args=["organiser", "create", "b@vigil.example", "--role", "steward"], input="short\n"
    )
    assert weak.exit_code != 0 and "12 to 128 characters" in weak.output
    taken = runner.invoke(
        args=["organiser", "create", "LEAD@vigil.example", "--role", "steward"],
        input=PASSWORD + "\n",
    )
    assert taken.exit_code != 0
    listed = runner.invoke(args=["organiser", "list"]).output
    assert "admin\tactive\tLead\tlead@vigil.example" in listed
    assert runner.invoke(args=["organiser", "disable", "lead@vigil.example"]).exit_code == 0
    assert "disabled" in runner.invoke(args=["organiser", "list"]).output
    with app.app_context():
        account = db.session.scalar(db.select(Organiser))
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash


def test_login_opens_the_dashboard_and_logout_needs_a_post(app, client, make_event, make_organiser):
    event = make_event(title="Vigil at the embassy")
    email = make_organiser("organiser", [event])
    with client.session_transaction() as s:
        s["leftover"] = "from before log-in"
    response = login(client, email)
    assert response.status_code == 303
    with client.session_transaction() as s:
        assert "leftover" not in s  # a fresh session at log-in
    dashboard = client.get("/organiser/")
    assert dashboard.status_code == 200
    assert "Vigil at the embassy" in dashboard.get_data(as_text=True)
    assert dashboard.headers["Cache-Control"] == "no-store"
    assert client.get("/organiser/logout").status_code == 405
    page = dashboard.get_data(as_text=True)
    assert (
        client.post("/organiser/logout", data={"csrf_token": csrf_token(page)}).status_code == 303
    )
    assert client.get("/organiser/").status_code == 302


def test_wrong_password_and_unknown_address_look_the_same(app, client, make_organiser):
    email = make_organiser()
    wrong = login(client, email, "not the password at all")
    unknown = login(app.test_client(), "nobody@vigil.example", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: r.get_data(as_text=True).split('name="csrf_token"')[0]  # noqa: E731
    assert strip(wrong).replace(email, "X") == strip(unknown).replace("nobody@vigil.example", "X")
    assert "do not match an active account" in wrong.get_data(as_text=True)


def test_a_disabled_account_cannot_log_in(app, client, runner, make_organiser):
    email = make_organiser()
    runner.invoke(args=["organiser", "disable", email])
    assert login(client, email).status_code == 401


def test_repeated_failures_for_one_account_are_refused_for_a_while(app, make_organiser):
    email = make_organiser()
    statuses = [login(app.test_client(), email, "wrong password!!").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    refused = login(app.test_client(), email)  # a new browser: even the right password, for now
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many requests" in refused.get_data(as_text=True)
    assert login(app.test_client(), make_organiser()).status_code == 303  # others unaffected


def test_the_owner_logs_in_after_30_failures_by_strangers(app, make_organiser):
    """A browser the owner logged in from before carries a signed cookie; attempts
    from it are counted against it, not the account, so strangers failing on purpose
    cannot lock the owner out."""
    email = make_organiser()
    own = client_from(app, "198.51.100.7")
    assert login(own, email).status_code == 303
    cookie = own.get_cookie("vigil_device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert email not in cookie.value
    own.post("/organiser/logout", data={"csrf_token": csrf_token(own.get("/organiser/").text)})
    for i in range(30):
        stranger = client_from(app, f"203.0.113.{i}")
        assert login(stranger, email, "wrong password!!").status_code in (401, 429)
    assert login(app.test_client(), email).status_code == 429  # a new browser waits
    assert login(own, email).status_code == 303
    assert own.get("/organiser/").status_code == 200


def test_a_device_cookie_is_no_skeleton_key(app, make_organiser):
    """Copied to a guesser, the cookie gives no more tries than the account limit, and
    it does nothing for another account."""
    email, other = make_organiser(), make_organiser()
    own = app.test_client()
    assert login(own, email).status_code == 303
    value = own.get_cookie("vigil_device").value
    thief = client_from(app, "203.0.113.99")
    thief.set_cookie("vigil_device", value)
    statuses = [login(thief, email, "wrong password!!").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    for _ in range(5):
        login(app.test_client(), other, "wrong password!!")
    assert login(thief, other).status_code == 429  # trusted for the first account only
    forged = app.test_client()
    forged.set_cookie("vigil_device", value[:-4] + "AAAA")
    for _ in range(5):
        login(app.test_client(), email, "wrong password!!")
    assert login(forged, email).status_code == 429


def test_logging_in_again_and_again_is_never_refused(app, make_organiser):
    """Only failures count: the sixth right log-in in a quarter of an hour went through
    when sessions end after 30 minutes idle on the day."""
    email = make_organiser()
    own = app.test_client()
    for _ in range(8):  # more than the account's 5, fewer than the client's 10
        assert login(own, email).status_code == 303
        own.post("/organiser/logout", data={"csrf_token": csrf_token(own.get("/organiser/").text)})
    assert login(app.test_client(), email).status_code == 303  # a new browser too
    statuses = [
        login(client_from(app, f"203.0.113.{i}"), email, "wrong password!!").status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]  # failures still count


def test_one_client_trying_many_accounts_is_refused(app, client):
    statuses = [
        login(client, f"guess{i}@vigil.example", "wrong password!!").status_code for i in range(11)
    ]
    assert statuses == [401] * 10 + [429]


def test_a_password_change_ends_existing_sessions(app, client, runner, make_organiser):
    email = make_organiser()
    assert login(client, email).status_code == 303
    assert client.get("/organiser/").status_code == 200
    result = runner.invoke(
        args=["organiser", "set-password", email], input="another long password\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get("/organiser/").status_code == 302  # the old cookie no longer works


@pytest.mark.parametrize(
    "who, expected",
    [("anonymous", 302), ("steward", 403), ("other", 404), ("organiser", 200), ("admin", 200)],
)
@pytest.mark.parametrize(
    "path", ["/organiser/events/{slug}/roster", "/organiser/events/{slug}/roster.csv"]
)
def test_roster_permissions(make_event, accounts_for, visitor, who, expected, path):
    event = make_event()
    client, _ = visitor(accounts_for(event).get(who))
    response = client.get(path.format(slug=event.slug))
    assert response.status_code == expected
    if expected == 302:
        assert "/organiser/login" in response.headers["Location"]


def test_roster_page_and_csv_show_the_shifts_people(app, make_event, make_roles, make_organiser):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id),
            email="a@example.org",
            shift_ids=[leaflets],
            name="李明",
            languages="Mandarin",
        )
        confirmed_sign_up(
            db.session.get(Event, event.id),
            email="b@example.org",
            shift_ids=[leaflets],
            name="=cmd|' /C calc'!A0",
        )
        db.session.commit()
    client = app.test_client()
    login(client, make_organiser("organiser", [event]))
    html = client.get(f"/organiser/events/{event.slug}/roster").get_data(as_text=True)
    assert "李明" in html and "2 of 3 filled" in html and "1 more needed" in html
    assert "a@example.org" not in html  # the roster needs no addresses
    response = client.get(f"/organiser/events/{event.slug}/roster.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    names = [r[6] for r in rows[1:] if r[0] == "Leafleting"]
    assert "李明" in names and "'=cmd|' /C calc'!A0" in names


def test_organisers_add_roles_and_shifts_in_local_time(app, make_event, signed_in):
    from datetime import UTC, datetime

    event = make_event(starts_at=datetime(2031, 7, 1, 17, 0, tzinfo=UTC))
    client = signed_in("organiser", [event])
    page = client.get(f"/organiser/events/{event.slug}/roles").get_data(as_text=True)
    added = client.post(
        f"/organiser/events/{event.slug}/roles",
        data={
            "csrf_token": csrf_token(page),
            "name": "Interpreter",
            "duty": "Mandarin and Cantonese",
            "needs_phone": "y",
        },
    )
    assert added.status_code == 303
    with app.app_context():
        role = volunteers.event_roles(db.session.get(Event, event.id))[0]
        role_id = role.id
        assert role.needs_phone
    bad = client.post(
        f"/organiser/roles/{role_id}/shifts",
        data={
            "csrf_token": csrf_token(page),
            "starts": "2031-07-01T19:00",
            "ends": "2031-07-01T18:00",
            "capacity": "4",
        },
    )
    assert bad.status_code == 422
    assert "must end after it starts" in bad.get_data(as_text=True)
    ok = client.post(
        f"/organiser/roles/{role_id}/shifts",
        data={
            "csrf_token": csrf_token(page),
            "starts": "2031-07-01T17:30",
            "ends": "2031-07-01T20:00",
            "capacity": "4",
            "meeting_point": "The table",
        },
    )
    assert ok.status_code == 303
    with app.app_context():
        (shift,) = volunteers.event_roles(db.session.get(Event, event.id))[0].shifts
        assert shift.starts_at == datetime(2031, 7, 1, 16, 30, tzinfo=UTC)  # 17:30 BST
    public = app.test_client().get(f"/events/{event.slug}/volunteer").get_data(as_text=True)
    assert "Interpreter" in public and "17:30–20:00 BST" in public


def test_moving_a_shift_emails_the_people_on_it(app, make_event, make_roles, signed_in):
    from helpers import sent_mail

    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id), email="a@example.org", shift_ids=[leaflets]
        )
        db.session.commit()
        local_start = db.session.get(Event, event.id).starts_at.astimezone(
            db.session.get(Event, event.id).zone
        )
    client = signed_in("organiser", [event])
    page = client.get(f"/organiser/shifts/{leaflets}/edit").get_data(as_text=True)
    later = (local_start.replace(tzinfo=None)).strftime("%Y-%m-%dT") + "15:00"
    too_small = client.post(
        f"/organiser/shifts/{leaflets}/edit",
        data={
            "csrf_token": csrf_token(page),
            "starts": later,
            "ends": later[:-5] + "16:00",
            "capacity": "0",
        },
    )
    assert too_small.status_code == 422
    moved = client.post(
        f"/organiser/shifts/{leaflets}/edit",
        data={
            "csrf_token": csrf_token(page),
            "starts": later,
            "ends": later[:-5] + "16:00",
            "capacity": "3",
            "meeting_point": "New corner",
        },
    )
    assert moved.status_code == 303
    mails = sent_mail(app)
    assert [m["Subject"].split(":")[0] for m in mails] == [
        "Please confirm that you want to volunteer",
        "Thank you for volunteering",
        "Your shifts have changed",
    ]
    assert "New corner" in mails[2].get_body(("plain",)).get_content()


def test_removing_a_shift_with_people_asks_first_and_emails_them(
    app, make_event, make_roles, signed_in
):
    from helpers import sent_mail

    from vigil.models import Shift

    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    with app.app_context():
        for address in ("a@example.org", "b@example.org"):
            confirmed_sign_up(db.session.get(Event, event.id), email=address, shift_ids=[leaflets])
        db.session.commit()
    client = signed_in("organiser", [event])
    page = client.get(f"/organiser/shifts/{leaflets}/remove")
    html = page.get_data(as_text=True)
    assert "2 people are on this shift and will be emailed" in html
    unconfirmed = client.post(
        f"/organiser/shifts/{leaflets}/remove", data={"csrf_token": csrf_token(html)}
    )
    assert unconfirmed.status_code == 422
    with app.app_context():
        assert db.session.get(Shift, leaflets) is not None
    removed = client.post(
        f"/organiser/shifts/{leaflets}/remove",
        data={"csrf_token": csrf_token(html), "confirm": "y"},
    )
    assert removed.status_code == 303
    with app.app_context():
        assert db.session.get(Shift, leaflets) is None
    cancelled = [m for m in sent_mail(app) if m["Subject"].startswith("A shift has been cancelled")]
    assert sorted(m["To"] for m in cancelled) == ["a@example.org", "b@example.org"]
    # An empty shift goes at once, with just the button.
    html = client.get(f"/organiser/shifts/{before}/remove").get_data(as_text=True)
    assert "Nobody is on this shift." in html
    assert (
        client.post(
            f"/organiser/shifts/{before}/remove", data={"csrf_token": csrf_token(html)}
        ).status_code
        == 303
    )


@pytest.mark.parametrize(
    "who, expected",
    [("anonymous", 302), ("steward", 403), ("other", 404), ("organiser", 200), ("admin", 200)],
)
def test_role_and_shift_pages_permissions(
    app, make_event, make_roles, accounts_for, visitor, who, expected
):
    event = make_event()
    (shift_id, _), _ = make_roles(event)
    with app.app_context():
        role_id = volunteers.event_roles(db.session.get(Event, event.id))[0].id
    client, _ = visitor(accounts_for(event).get(who))
    for path in (
        f"/organiser/events/{event.slug}/roles",
        f"/organiser/roles/{role_id}/edit",
        f"/organiser/roles/{role_id}/remove",
        f"/organiser/shifts/{shift_id}/edit",
        f"/organiser/shifts/{shift_id}/remove",
    ):
        assert client.get(path).status_code == expected, path
    assert client.get("/organiser/shifts/999999/edit").status_code == (
        302 if who == "anonymous" else 404
    )
    assert client.get("/organiser/shifts/2147483648/edit").status_code == 404


# On SQLite the request holds the write lock throughout, so no one else can remove it.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_shift_another_organiser_removed_meanwhile_answers_not_found(
    app, make_event, make_roles, signed_in, monkeypatch
):
    """Asked to confirm, the page counts the people again: by then the shift may be gone."""
    import dataclasses

    from vigil.pages.organiser import volunteer_roles

    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        confirmed_sign_up(db.session.get(Event, event.id), email="a@x.org", shift_ids=[leaflets])
        db.session.commit()
    client = signed_in("organiser", [event])
    html = client.get(f"/organiser/shifts/{leaflets}/remove").get_data(as_text=True)
    refuse = shift_editing.remove_shift

    def removed_by_someone_else(shift, confirmed=True):
        with app.app_context():  # another organiser's request, committed first
            from vigil.models import Shift

            refuse(db.session.get(Shift, shift.id))
            db.session.commit()
        raise shift_editing.NeedsConfirmation()

    removals = volunteer_roles._REMOVALS
    monkeypatch.setitem(
        removals, "shift", dataclasses.replace(removals["shift"], remove=removed_by_someone_else)
    )
    answer = client.post(
        f"/organiser/shifts/{leaflets}/remove", data={"csrf_token": csrf_token(html)}
    )
    assert answer.status_code == 404


def test_removing_a_role_removes_its_shifts_and_tells_their_people(
    app, make_event, make_roles, signed_in
):
    from helpers import sent_mail

    from vigil.models import Role, Shift

    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id),
            email="a@example.org",
            shift_ids=[during],
            phone="0123456",
        )
        db.session.commit()
        steward = volunteers.event_roles(db.session.get(Event, event.id))[0].id
    client = signed_in("organiser", [event])
    html = client.get(f"/organiser/roles/{steward}/remove").get_data(as_text=True)
    assert "1 sign-up is on its shifts" in html
    assert (
        client.post(
            f"/organiser/roles/{steward}/remove", data={"csrf_token": csrf_token(html)}
        ).status_code
        == 422
    )
    done = client.post(
        f"/organiser/roles/{steward}/remove", data={"csrf_token": csrf_token(html), "confirm": "y"}
    )
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Role, steward) is None
        assert db.session.get(Shift, before) is None and db.session.get(Shift, during) is None
        assert db.session.get(Shift, leaflets) is not None
    assert [m["Subject"].split(":")[0] for m in sent_mail(app)][-1] == "A shift has been cancelled"


def test_logging_out_ends_the_session_even_for_a_copied_cookie(app, make_organiser):
    email = make_organiser()
    client = app.test_client()
    assert login(client, email).status_code == 303
    copied = client.get_cookie("vigil").value
    page = client.get("/organiser/").get_data(as_text=True)
    assert (
        client.post("/organiser/logout", data={"csrf_token": csrf_token(page)}).status_code == 303
    )
    thief = app.test_client()
    thief.set_cookie("vigil", copied)
    assert thief.get("/organiser/").status_code == 302


def test_parallel_guesses_cannot_outrun_the_account_limit(app, make_organiser):
    import threading

    email = make_organiser()
    barrier = threading.Barrier(20)
    statuses = []

    def guess():
        client = app.test_client()
        page = client.get("/organiser/login").get_data(as_text=True)
        barrier.wait()
        statuses.append(
            client.post(
                "/organiser/login",
                data={
                    "csrf_token": csrf_token(page),
                    "email": email,
                    "password": "wrong password!!",
                },
            ).status_code
        )

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses.count(401) <= 5  # never more checked passwords than the limit allows
    assert statuses.count(429) >= 15


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("steward", 403), ("other", 404)])
def test_state_changes_are_refused_outside_ones_role_and_events(
    app, make_event, make_roles, accounts_for, visitor, who, expected
):
    from vigil.models import Role, Shift

    event = make_event()
    (shift_id, _), _ = make_roles(event)
    with app.app_context():
        role_id = volunteers.event_roles(db.session.get(Event, event.id))[0].id
    client, token = visitor(accounts_for(event).get(who))
    posts = {
        f"/organiser/events/{event.slug}/roles": {"name": "Sneaky"},
        f"/organiser/roles/{role_id}/edit": {"name": "Renamed"},
        f"/organiser/roles/{role_id}/shifts": {
            "starts": "2031-01-01T10:00",
            "ends": "2031-01-01T11:00",
            "capacity": "1",
        },
        f"/organiser/shifts/{shift_id}/edit": {
            "starts": "2031-01-01T10:00",
            "ends": "2031-01-01T11:00",
            "capacity": "5",
        },
        f"/organiser/shifts/{shift_id}/remove": {"confirm": "y"},
        f"/organiser/roles/{role_id}/remove": {"confirm": "y"},
    }
    for path, data in posts.items():
        assert client.post(path, data={"csrf_token": token, **data}).status_code == expected, path
    with app.app_context():
        assert db.session.get(Role, role_id).name == "Steward"
        assert db.session.get(Shift, shift_id).capacity == 2
        assert len(volunteers.event_roles(db.session.get(Event, event.id))) == 2


def test_a_sign_up_after_the_organiser_looked_still_needs_confirmation(ctx, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    from vigil.models import Shift

    confirmed_sign_up(
        db.session.get(Event, event.id), email="late@example.org", shift_ids=[leaflets]
    )
    db.session.commit()
    with pytest.raises(shift_editing.NeedsConfirmation):
        shift_editing.remove_shift(db.session.get(Shift, leaflets), confirmed=False)


def test_a_cancelled_shift_email_strikes_it_from_calendars(
    app, make_event, make_roles, make_organiser
):
    import icalendar
    from helpers import sent_mail

    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id), email="a@example.org", shift_ids=[leaflets]
        )
        db.session.commit()
    (_, confirmation) = sent_mail(app)  # the shift in the calendar first
    with app.app_context():
        from vigil.models import Shift

        shift_editing.remove_shift(db.session.get(Shift, leaflets))
        db.session.commit()
    _, confirmation, cancelled = sent_mail(app)
    (first,) = icalendar.Calendar.from_ical(
        next(confirmation.iter_attachments()).get_content()
    ).walk("VEVENT")
    (struck,) = icalendar.Calendar.from_ical(next(cancelled.iter_attachments()).get_content()).walk(
        "VEVENT"
    )
    assert struck["UID"] == first["UID"]
    assert struck["STATUS"] == "CANCELLED" and struck["SEQUENCE"] > first["SEQUENCE"]


def test_people_whose_shift_was_removed_show_on_the_roster(app, make_event, make_roles, signed_in):
    from vigil.models import Shift

    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id),
            email="a@example.org",
            shift_ids=[leaflets],
            name="Without Shift",
        )
        db.session.commit()
        shift_editing.remove_shift(db.session.get(Shift, leaflets))
        db.session.commit()
    client = signed_in("organiser", [event])
    html = client.get(f"/organiser/events/{event.slug}/roster").get_data(as_text=True)
    assert "Signed up, but without a shift" in html and "Without Shift" in html


def test_dashboard_counts_rsvps_guests_places_and_volunteer_gaps(
    app, make_event, make_rsvp, make_roles, signed_in
):
    from vigil.models import RsvpStatus

    event = make_event(title="Counted vigil", capacity=20)
    make_rsvp(event, guests=2)
    make_rsvp(event)
    make_rsvp(event, status=RsvpStatus.WAITLISTED)
    make_rsvp(event, status=RsvpStatus.CANCELLED, guests=4)
    _, (leaflets,) = make_roles(event)  # shifts of 2, 2 and 3 places
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id), email="v@example.org", shift_ids=[leaflets]
        )
        db.session.commit()
    client = signed_in("organiser", [event])
    html = client.get("/organiser/").get_data(as_text=True)
    numbers = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)", html))
    assert numbers == {
        "Confirmed": "2",
        "Places left": "16",
        "Waitlist": "1",
        "Not confirmed yet": "0",
        "Checked in": "0",
        "Volunteer places to fill": "6",
        "Emails undelivered": "0",
        "Cancelled": "1",
    }
    assert "+2 guests" in html


def attendee_setup(app, make_event, make_rsvp, signed_in):
    from datetime import UTC, datetime, timedelta

    from vigil.models import RsvpStatus

    event = make_event(capacity=500)
    base = datetime(2030, 1, 1, tzinfo=UTC)
    for i in range(120):
        make_rsvp(
            event,
            email=f"person{i:03d}@example.org",
            name=f"Person {i:03d}",
            created_at=base + timedelta(minutes=i),
            status=RsvpStatus.WAITLISTED if i % 10 == 0 else RsvpStatus.CONFIRMED,
        )
    make_rsvp(
        event,
        email="wang@example.org",
        name="王丹",
        created_at=base - timedelta(days=1),
        accessibility="Step-free access",
    )
    make_rsvp(event, email="formula@example.org", name="=1+1", created_at=base + timedelta(days=1))
    return event, signed_in("organiser", [event])


def test_attendee_list_pages_searches_filters_and_sorts(app, make_event, make_rsvp, signed_in):
    event, client = attendee_setup(app, make_event, make_rsvp, signed_in)
    url = f"/organiser/events/{event.slug}/attendees"
    first = client.get(url)
    html = first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    assert "122 RSVPs" in html and "page 1 of 3" in html
    assert html.index("王丹") < html.index("Person 000")  # oldest first
    assert "Step-free access" in html
    token = csrf_token(html)
    found = client.post(url, data={"csrf_token": token, "q": "PERSON01", "page": "1"})
    text = found.get_data(as_text=True)
    assert "10 RSVPs" in text and "Person 010" in text and "Person 020" not in text
    waiting = client.post(url, data={"csrf_token": token, "status": "waitlisted"})
    assert "12 RSVPs" in waiting.get_data(as_text=True)
    newest = client.post(url, data={"csrf_token": token, "order": "newest"}).get_data(as_text=True)
    assert newest.index("=1+1") < newest.index("Person 119")
    third = client.post(url, data={"csrf_token": token, "page": "3"}).get_data(as_text=True)
    assert "page 3 of 3" in third and "Person 119" in third
    wildcard = client.post(url, data={"csrf_token": token, "q": "%"}).get_data(as_text=True)
    assert "0 RSVPs" in wildcard  # the search is for text, not a pattern
    assert client.post(url, data={"q": "x"}).status_code == 400  # no CSRF token


def test_attendee_csv_is_complete_streamed_and_safe(app, make_event, make_rsvp, signed_in):
    from vigil.models import AuditEntry, Rsvp

    event, client = attendee_setup(app, make_event, make_rsvp, signed_in)
    with app.app_context():  # one person with a code, as a form RSVP gets
        db.session.get(Rsvp, 1).checkin_code = "ABC234"
        db.session.commit()
    response = client.get(f"/organiser/events/{event.slug}/attendees.csv")
    assert response.is_streamed
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["name", "email", "status", "check-in code"]
    assert len(rows) == 1 + 122
    with app.app_context():
        stored = db.session.execute(db.select(Rsvp.name, Rsvp.checkin_code)).all()
    assert sorted(r[3] for r in rows[1:]) == sorted(code or "" for _, code in stored)
    assert "ABC234" in {r[3] for r in rows[1:]}
    names = {r[0] for r in rows[1:]}
    assert "王丹" in names and "'=1+1" in names
    with app.app_context():
        actions = [(a.action, a.rows) for a in db.session.scalars(db.select(AuditEntry))]
    assert ("export attendee list", 122) in actions


def test_views_and_exports_of_personal_data_are_audited(app, make_event, make_rsvp, signed_in):
    from vigil.models import AuditEntry

    event, client = attendee_setup(app, make_event, make_rsvp, signed_in)
    client.get(f"/organiser/events/{event.slug}/attendees")
    client.get(f"/organiser/events/{event.slug}/roster")
    client.get(f"/organiser/events/{event.slug}/roster.csv")
    with app.app_context():
        entries = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.action != "log in").order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == [
            "view attendee list",
            "view volunteer roster",
            "export volunteer roster",
        ]
        assert entries[0].rows == 50 and all(e.event_id == event.id for e in entries)
        assert all(e.organiser_id is not None for e in entries)


@pytest.mark.parametrize(
    "who, expected",
    [("anonymous", 302), ("steward", 403), ("other", 404), ("organiser", 200), ("admin", 200)],
)
def test_attendee_pages_permissions(make_event, accounts_for, visitor, who, expected):
    event = make_event()
    client, _ = visitor(accounts_for(event).get(who))
    for path in (
        f"/organiser/events/{event.slug}/attendees",
        f"/organiser/events/{event.slug}/attendees.csv",
    ):
        assert client.get(path).status_code == expected, path


def test_stewards_check_people_in_by_code_name_or_address_and_undo(app, make_event, signed_in):
    from vigil import rsvps
    from vigil.models import AuditEntry, Rsvp

    event = make_event(capacity=10)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        lin = rsvps.create_rsvp(stored, email="lin@example.org", name="Lin", guests=1).rsvp
        bo = rsvps.create_rsvp(stored, email="bo@example.org", name="Bo").rsvp
        for person in (lin, bo):  # both confirm from their mailboxes
            rsvps.confirm_rsvp(person)
        db.session.commit()
        code, lin_id = db.session.get(Rsvp, lin.id).checkin_code, lin.id
    assert len(code) == 6
    client = signed_in("steward", [event])
    url = f"/organiser/events/{event.slug}/check-in"
    page = client.get(url).get_data(as_text=True)
    assert "0 of 3 checked in" in page
    token = csrf_token(page)
    found = client.post(url, data={"csrf_token": token, "q": code.lower(), "action": "search"})
    html = found.get_data(as_text=True)
    assert 'class="name">Lin' in html and 'class="name">Bo' not in html
    done = client.post(
        url, data={"csrf_token": token, "q": code, "rsvp": str(lin_id), "action": "in"}
    ).get_data(as_text=True)
    assert "2 of 3 checked in" in done and "Undo" in done
    assert "Lin is checked in. Let them in with 1 guest." in done
    assert re.search(r'<li class="is-in">.*Checked in at \d\d:\d\d', done, re.S)
    by_address = client.post(
        url, data={"csrf_token": token, "q": "BO@example.org", "action": "search"}
    )
    assert 'class="name">Bo' in by_address.get_data(as_text=True)
    by_name = client.post(url, data={"csrf_token": token, "q": " lin ", "action": "search"})
    assert 'class="name">Lin' in by_name.get_data(as_text=True)
    undone = client.post(
        url, data={"csrf_token": token, "q": code, "rsvp": str(lin_id), "action": "undo"}
    ).get_data(as_text=True)
    assert "0 of 3 checked in" in undone
    with app.app_context():
        actions = [a.action for a in db.session.scalars(db.select(AuditEntry))]
    assert "check in" in actions and "undo check-in" in actions and "check-in search" in actions


def test_a_steward_search_finds_one_person_never_a_list(app, make_event, signed_in):
    """Part of a name or address ("@", "a") finds nobody; a full name finds at most
    five; every search is in the audit trail."""
    from vigil import rsvps
    from vigil.models import AuditEntry

    event = make_event(capacity=50)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        for i in range(8):
            person = rsvps.create_rsvp(stored, email=f"li{i}@example.org", name="Li Wei").rsvp
            rsvps.confirm_rsvp(person)
        asking = rsvps.create_rsvp(stored, email="pending@example.org", name="Pending").rsvp
        db.session.commit()
        pending_code = asking.checkin_code
    client = signed_in("steward", [event])
    url = f"/organiser/events/{event.slug}/check-in"
    token = csrf_token(client.get(url).get_data(as_text=True))

    def search(q: str) -> str:
        return client.post(url, data={"csrf_token": token, "q": q, "action": "search"}).text

    for partial in ("@", "a", "li", "Li We", "example.org", "li1@example"):
        assert 'class="name">Li Wei' not in search(partial), partial
    assert search("li wei").count('class="name">Li Wei') == 5
    assert search("li3@example.org").count('class="name">Li Wei') == 1
    assert 'class="name">Pending' not in search(pending_code)  # not confirmed: no place
    with app.app_context():
        searches = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.action == "check-in search")
        ).all()
    assert len(searches) == 9 and [s.rows for s in searches[-3:]] == [5, 1, 0]


def test_check_in_permissions_and_foreign_rsvps(app, make_event, make_rsvp, make_organiser):
    event, elsewhere = make_event(), make_event()
    foreign, _ = make_rsvp(elsewhere)
    client = app.test_client()
    url = f"/organiser/events/{event.slug}/check-in"
    assert client.get(url).status_code == 302
    assert login(client, make_organiser("steward", [elsewhere])).status_code == 303
    assert client.get(url).status_code == 404
    steward = app.test_client()
    login(steward, make_organiser("steward", [event]))
    token = csrf_token(steward.get(url).get_data(as_text=True))
    response = steward.post(
        url, data={"csrf_token": token, "rsvp": str(foreign.id), "action": "in"}
    )
    assert response.status_code == 404  # another event's RSVP cannot be touched from here
    assert steward.get(f"/organiser/events/{event.slug}/attendees").status_code == 403


def test_manage_page_and_confirmation_show_the_check_in_code(app, client, make_event):
    from helpers import manage_link, sent_mail, submit, text_body

    event = make_event()
    url = f"/events/{event.slug}"
    submit(client, url, f"{url}/rsvp", {"email": "code@example.org", "guests": "0", "consent": "y"})
    (msg,) = sent_mail(app)
    body = text_body(msg)
    code = body.split("Your check-in code for the stewards at the event: ")[1].split()[0]
    page = client.get(manage_link(msg)).get_data(as_text=True)
    assert f'<strong class="code">{code}</strong>' in page
    assert "<svg" in page and "http" not in page.split("<svg")[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    # Never on the public confirmation page, which must not differ for a repeat.
    assert code not in client.get(f"{url}/rsvp/done").get_data(as_text=True)


def test_message_is_previewed_with_its_count_then_sent_once(app, make_event, make_rsvp, signed_in):
    import re

    from helpers import sent_mail

    from vigil.models import RsvpStatus

    event = make_event()
    make_rsvp(event, email="a@example.org", wants_updates=True)
    make_rsvp(event, email="b@example.org")
    make_rsvp(event, email="c@example.org", status=RsvpStatus.CANCELLED)
    client = signed_in("organiser", [event])
    url = f"/organiser/events/{event.slug}/message"
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    data = {
        "csrf_token": csrf_token(page),
        "key": key,
        "audience": "confirmed",
        "subject": "Bring candles",
        "body": "It gets dark early.\n\n<b>Stay warm</b>",
    }
    assert client.post(url, data={**data, "subject": ""}).status_code == 422
    preview = client.post(url, data=data).get_data(as_text=True)
    assert "This goes to 2 people." in preview and "&lt;b&gt;Stay warm&lt;/b&gt;" in preview
    assert sent_mail(app) == []  # a preview sends nothing
    previewed = re.search(r'name="previewed" type="hidden" value="([0-9a-f]+)"', preview).group(1)
    data["previewed"] = previewed
    # Changed after the preview (another audience, another subject): shown again, not sent.
    changed = client.post(
        url, data={**data, "audience": "updates", "subject": "Unseen", "confirm": "y"}
    )
    assert changed.status_code == 200 and "nothing was sent" in changed.text
    assert "This goes to 1 person." in changed.text and sent_mail(app) == []
    assert client.post(url, data={**data, "confirm": "y"}).status_code == 303
    assert client.post(url, data={**data, "confirm": "y"}).status_code == 303  # sent twice
    mails = sent_mail(app)
    assert sorted(m["To"] for m in mails) == ["a@example.org", "b@example.org"]
    assert all(m["Subject"] == "Bring candles" for m in mails)
    with app.app_context():
        assert audited(app) == [
            ("message attendees", 2),
            ("message attendees", 0),
        ]


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("steward", 403), ("other", 404)])
def test_message_page_permissions(make_event, accounts_for, visitor, who, expected):
    event = make_event()
    client, _ = visitor(accounts_for(event).get(who))
    assert client.get(f"/organiser/events/{event.slug}/message").status_code == expected
