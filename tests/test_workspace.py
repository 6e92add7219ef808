"""The organisers' workspace: each event's numbers at a glance, in the dashboard and in
the header of its pages, and the printed check-in list stewards fall back on."""

import re

from helpers import audited

from vigil import rsvps
from vigil.extensions import db
from vigil.models import Event, Rsvp


def _people(app, event, names, confirm=True, check_in=()):
    """RSVPs made as the form makes them, confirmed from the mailbox; some checked in."""
    from vigil import attendees

    with app.app_context():
        stored = db.session.get(Event, event.id)
        made = []
        for name in names:
            rsvp = rsvps.create_rsvp(stored, email=f"{name.lower()}@example.org", name=name).rsvp
            if confirm:
                rsvps.confirm_rsvp(rsvp)
            made.append(rsvp)
        for rsvp in made:
            if rsvp.name in check_in:
                attendees.set_checked_in(rsvp, True)
        db.session.commit()
        return {r.name: db.session.get(Rsvp, r.id).checkin_code for r in made}


def test_the_dashboard_counts_who_is_checked_in(app, make_event, signed_in):
    event = make_event(capacity=10)
    _people(app, event, ["Ann", "Bea", "Cai"], check_in={"Ann", "Cai"})
    _people(app, event, ["Dee"], confirm=False)
    html = signed_in("organiser", [event]).get("/organiser/").text
    numbers = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)", html))
    assert numbers["Checked in"] == "2" and numbers["Confirmed"] == "3"
    assert numbers["Not confirmed yet"] == "1" and numbers["Places left"] == "7"


def test_every_page_of_an_event_keeps_its_name_numbers_and_tabs_in_view(app, make_event, signed_in):
    event = make_event(title="Numbers vigil", capacity=10)
    _people(app, event, ["Ann", "Bea"], check_in={"Ann"})
    _people(app, event, ["Cy"], confirm=False)
    client = signed_in("organiser", [event])
    for page in ("attendees", "check-in", "roster", "roles", "message", "edit"):
        html = client.get(f"/organiser/events/{event.slug}/{page}").text
        head = html[html.index('class="event-head"') : html.index("</header>")]
        assert "Numbers vigil" in head, page
        assert re.search(r"<strong>2</strong>/10\s+coming", head), page
        assert re.search(r"<strong>1</strong>\s+to confirm", head), page
        assert re.search(r"<strong>1</strong>\s+checked in", head), page
        assert head.count('aria-current="page"') == 1, page


def test_a_steward_sees_only_the_check_in_tab(app, make_event, signed_in):
    event = make_event()
    html = signed_in("steward", [event]).get(f"/organiser/events/{event.slug}/check-in").text
    tabs = html[html.index('class="tabs"') : html.index("</nav>", html.index('class="tabs"'))]
    assert "Check-in" in tabs and "Attendees" not in tabs and "Message" not in tabs
    assert "Printable check-in list" not in html


def test_the_printed_check_in_list_has_everyone_with_a_place_by_name_with_codes(
    app, make_event, signed_in
):
    event = make_event(capacity=2)
    codes = _people(app, event, ["Zed", "amy", "Bo"], check_in={"Zed"})  # Bo is waitlisted
    _people(app, event, ["Pending"], confirm=False)
    client = signed_in("organiser", [event])
    response = client.get(f"/organiser/events/{event.slug}/check-in/sheet")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = re.findall(
        r"<tr( class=\"is-in\")?>\s*<td class=\"tick\"[^>]*>(.)</td>\s*<td>([^<]+)", response.text
    )
    assert [(name.strip(), tick) for _, tick, name in rows] == [("amy", "☐"), ("Zed", "✓")]
    assert codes["amy"] in response.text and codes["Zed"] in response.text
    assert codes["Bo"] not in response.text and "Pending" not in response.text
    assert ("print check-in list", 2) in audited(app)
    with client.get("/static/style.css") as stylesheet:
        assert "@media print" in stylesheet.text


def test_stewards_cannot_print_the_whole_list(make_event, accounts_for, visitor):
    event = make_event()
    client, _ = visitor(accounts_for(event)["steward"])
    assert client.get(f"/organiser/events/{event.slug}/check-in/sheet").status_code == 403


def test_the_ticket_s_qr_code_is_one_every_phone_reads(app):
    """A six-character code fits a Micro QR code, which phones' scanners and Vigil's own
    scan do not read: the ticket draws a full QR code (version 1: 21 modules)."""
    import segno

    from vigil.templating import qr_svg

    svg = str(qr_svg("ABC234"))
    assert 'viewBox="0 0 174 174"' in svg  # (21 + 2 × 4 border) modules × 6 px
    assert segno.make("ABC234", error="m").is_micro  # what it would have been
