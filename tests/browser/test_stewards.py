"""Stewards in a real browser: checking an attendee in on a phone at the spot, by the
code from the attendee's email, and being refused the attendee list."""

import re

import pytest
from playwright.sync_api import expect

from .flows import expect_dashboard, log_in, new_address, rsvp_with_a_place
from .server import PLACES
from .tab import LOOKS, PHONE

STEWARD = "steward@vigil.test"


def test_a_steward_checks_an_attendee_in_on_a_phone(open_tab, mailbox):
    arriving = open_tab("check-in-attendee", PHONE)
    checkin_code = rsvp_with_a_place(arriving, mailbox, PLACES, new_address("arriving"), "Mei")

    tab = open_tab("check-in", PHONE)
    page, main = tab.page, tab.page.get_by_role("main")
    log_in(tab, STEWARD)
    expect_dashboard(tab)
    tab.open(f"/organiser/events/{PLACES}/check-in", "check-in")
    page.get_by_label(re.compile("check-in code", re.IGNORECASE)).fill(checkin_code)
    tab.submit(page.get_by_role("button", name="Find"), "found")
    expect(main).to_contain_text("Mei")
    tab.submit(page.get_by_role("button", name="Check in", exact=True), "checked-in")
    expect(main).to_contain_text("Mei is checked in.")
    expect(page.get_by_role("button", name="Undo")).to_be_visible()


@pytest.mark.parametrize("look", LOOKS)
def test_a_steward_is_refused_the_attendee_list(open_tab, look):
    tab = open_tab("steward-refused", look)
    log_in(tab, STEWARD)
    expect_dashboard(tab)
    response = tab.open(f"/organiser/events/{PLACES}/attendees", "attendees-refused")
    assert response.status == 403
    export = tab.page.request.get(f"{tab.origin}/organiser/events/{PLACES}/attendees.csv")
    assert export.status == 403
