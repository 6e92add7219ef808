"""Stewards in a real browser: checking an attendee in on a phone at the spot, by the
code from the attendee's email, and being refused the attendee list."""

import re

import pytest
from playwright.sync_api import expect

from .flows import expect_dashboard, log_in, new_address, rsvp_with_a_place
from .server import PLACES
from .tab import LOOKS, PHONE
from .tools import camera_film

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


def test_a_steward_scans_the_qr_code_on_an_attendee_s_ticket(open_tab, mailbox, camera):
    """The camera scan: the ticket held up to the phone's camera (a film of its QR code,
    here) fills in the code and finds the person; nothing is typed. Debian's Chromium
    has no BarcodeDetector, so this is jsQR, served by Vigil itself."""
    arriving = open_tab("scan-attendee", PHONE)
    checkin_code = rsvp_with_a_place(arriving, mailbox, PLACES, new_address("scanned"), "Lhamo")
    camera_film(camera, checkin_code)

    tab = open_tab("scan", PHONE)
    page, main = tab.page, tab.page.get_by_role("main")
    log_in(tab, STEWARD)
    tab.open(f"/organiser/events/{PLACES}/check-in", "check-in")
    scan = page.get_by_role("button", name="Scan their QR code")
    expect(scan).to_be_visible()  # shown by the script: without it, typing the code works
    with page.expect_event("load"):
        scan.click()
    tab.step("scanned")
    expect(main).to_contain_text("Lhamo")
    expect(page.get_by_label(re.compile("check-in code", re.IGNORECASE))).to_have_value(
        checkin_code
    )
    tab.submit(page.get_by_role("button", name="Check in", exact=True), "checked-in")
    expect(main).to_contain_text("Lhamo is checked in.")


@pytest.mark.parametrize("look", LOOKS)
def test_a_steward_is_refused_the_attendee_list(open_tab, look):
    tab = open_tab("steward-refused", look)
    log_in(tab, STEWARD)
    expect_dashboard(tab)
    response = tab.open(f"/organiser/events/{PLACES}/attendees", "attendees-refused")
    assert response.status == 403
    export = tab.page.request.get(f"{tab.origin}/organiser/events/{PLACES}/attendees.csv")
    assert export.status == 403
