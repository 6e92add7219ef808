"""Steps several tests share, written as a person takes them: by what a page says and
what its controls are called, never by how it is laid out."""

import re
import secrets
from datetime import UTC, datetime

import pyotp
from helpers import text_body
from playwright.sync_api import expect

from .server import PASSWORD

ERROR_TITLE = re.compile(r"^Error:")


def new_address(who: str) -> str:
    return f"{who}-{secrets.token_hex(4)}@example.org"


def send_rsvp(tab, email: str, name: str = "") -> None:
    """Fill the RSVP form on the page shown and send it: a 'check your email' page."""
    page = tab.page
    page.get_by_label("Email", exact=True).fill(email)
    if name:
        page.get_by_label("Name (optional)").fill(name)
    page.get_by_label(re.compile("^I agree")).check()
    tab.submit(page.get_by_role("button", name="RSVP", exact=True), "sent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")


def confirm_from_email(tab, mailbox, email: str, subject: str, path: str) -> str:
    """Open the private link in the email and press Confirm; returns the link."""
    link = mailbox.link(mailbox.wait_for(email, subject), path)
    tab.open(link, "from-email")
    tab.submit(tab.page.get_by_role("button", name="Confirm", exact=True), "confirmed")
    return link


def rsvp_with_a_place(tab, mailbox, slug: str, email: str, name: str) -> str:
    """RSVP and confirm from the mailbox; returns the check-in code the email gives."""
    tab.open(f"/events/{slug}", "event")
    send_rsvp(tab, email, name)
    confirm_from_email(tab, mailbox, email, "Please confirm your RSVP", "/rsvp/")
    expect(tab.page.get_by_role("main")).to_contain_text("You have a place.")
    text = text_body(mailbox.wait_for(email, "You have a place"))
    return re.search(r"check-in code[^:]*:\s*([A-Z0-9]{6})", text).group(1)


def log_in(tab, email: str) -> None:
    """The log-in form with the right password; two-step log-in, if any, comes next."""
    page = tab.page
    if "/organiser/login" not in page.url:
        tab.open("/organiser/login", "log-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    tab.submit(page.get_by_role("button", name="Log in"), "after-password")


def code(secret: str, later: int = 0) -> str:
    """The authenticator app's code; `later` steps ahead, since a code works once."""
    return pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=later)


def expect_dashboard(tab) -> None:
    expect(tab.page).to_have_url(re.compile(r"/organiser/?$"))
