"""An attendee's RSVP in a real browser, on a phone, on a desktop and with JavaScript
off: a place taken by confirming from the email, the waitlist when the event is
full, then a change, a cancellation and erasure through the private link."""

import re

import pytest
from helpers import text_body
from playwright.sync_api import expect

from . import server
from .flows import ERROR_TITLE, confirm_from_email, new_address, send_rsvp
from .tab import PUBLIC_LOOKS


def mistakes_are_shown(tab, step: str, message: str) -> None:
    """A form sent with mistakes: the same page again, saying what is wrong."""
    tab.submit(tab.page.get_by_role("button", name="RSVP", exact=True), step)
    expect(tab.page).to_have_title(ERROR_TITLE)
    expect(tab.page.get_by_role("alert").first).to_contain_text(message)


@pytest.mark.parametrize("look", PUBLIC_LOOKS)
def test_an_rsvp_takes_a_place_then_is_changed_cancelled_and_erased(open_tab, mailbox, look):
    tab = open_tab("rsvp-place", look)
    page, main = tab.page, tab.page.get_by_role("main")
    tab.open(f"/events/{server.PLACES}", "event")
    expect(main).to_contain_text("Places available")

    mistakes_are_shown(tab, "empty-form", "Please enter your email address.")
    page.get_by_label("Email", exact=True).fill("not an address")
    mistakes_are_shown(tab, "bad-email", "email address")

    email = new_address(f"place-{look.label}")
    send_rsvp(tab, email, "Ada")
    link = confirm_from_email(tab, mailbox, email, "Please confirm your RSVP", "/rsvp/")
    expect(main).to_contain_text("You have a place.")
    assert "check-in code" in text_body(mailbox.wait_for(email, "You have a place"))

    page.get_by_label("Guests coming with you").fill("1")
    tab.submit(page.get_by_role("button", name="Save changes"), "changed")
    expect(main).to_contain_text("You have a place, for yourself and 1 guest.")

    tab.submit(page.get_by_role("button", name="Cancel my RSVP"), "cancelled")
    expect(main).to_contain_text("You have cancelled this RSVP.")
    mailbox.wait_for(email, "Your RSVP has been cancelled")

    tab.submit(page.get_by_role("button", name="Erase my RSVP"), "erase-unticked")
    expect(page).to_have_title(ERROR_TITLE)
    page.get_by_label(re.compile("^I understand this deletes my RSVP")).check()
    tab.submit(page.get_by_role("button", name="Erase my RSVP"), "erased")
    expect(main).to_contain_text("have been erased")

    assert tab.open(link, "link-gone").status == 404


@pytest.mark.parametrize("look", PUBLIC_LOOKS)
def test_an_rsvp_to_a_full_event_joins_the_waitlist(open_tab, mailbox, full_event, look):
    slug, _first = full_event
    tab = open_tab("rsvp-waitlist", look)
    main = tab.page.get_by_role("main")
    tab.open(f"/events/{slug}", "event")
    expect(main).to_contain_text("Full: new RSVPs join the waitlist")

    email = new_address(f"waitlist-{look.label}")
    send_rsvp(tab, email)
    confirm_from_email(tab, mailbox, email, "Please confirm your RSVP", "/rsvp/")
    expect(main).to_contain_text("You are on the waitlist.")
    mailbox.wait_for(email, "You are on the waitlist")
