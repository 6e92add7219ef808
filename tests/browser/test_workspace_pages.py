"""Every page of the organisers' workspace that the flows do not reach, as an admin
sees it: the accounts and the audit log, an event's form (with its mistakes and its
Chinese sections), roles and shifts, the roster, adding a walk-up, cancelling an RSVP,
cancelling the event, and the printable list. Each is screenshot and must satisfy
axe and the Nu HTML Checker like the rest; nothing here changes any event."""

import re

import pytest
from playwright.sync_api import expect

from .flows import ERROR_TITLE, code, expect_dashboard, log_in
from .server import PLACES
from .tab import LOOKS

CODE_LABEL = "6-digit code from your authenticator app"


def enrol(tab, email: str) -> None:
    """An admin's first log-in: two-step log-in is set up before anything else."""
    log_in(tab, email)
    secret = re.search(r"\b[A-Z2-7]{32}\b", tab.page.get_by_role("main").inner_text()).group(0)
    tab.page.get_by_label(CODE_LABEL).fill(code(secret))
    tab.submit(tab.page.get_by_role("button", name="Turn on two-step log-in"), "enrolled")
    expect_dashboard(tab)


@pytest.mark.parametrize("look", LOOKS)
def test_every_workspace_page_is_usable_and_valid(open_tab, vigil, full_event, look):
    tab = open_tab("workspace-pages", look)
    page, main = tab.page, tab.page.get_by_role("main")
    enrol(tab, f"admin-pages-{look.label}@vigil.test")
    seed = vigil.seed_slug

    for path, step, heading in [
        ("/organiser/accounts", "accounts", "Accounts"),
        ("/organiser/accounts/new", "new-account", "New account"),
        ("/organiser/audit", "audit-log", "Audit log"),
        ("/organiser/events/new", "new-event", "New event"),
        (f"/organiser/events/{seed}/roles", "roles", "Roles and shifts"),
        (f"/organiser/events/{seed}/roster", "roster", "Volunteer roster"),
        (f"/organiser/events/{seed}/check-in/sheet", "check-in-list", "Check-in list"),
        (f"/organiser/events/{PLACES}/walk-up", "walk-up", "Add someone"),
        (f"/organiser/events/{PLACES}/cancel", "cancel-event", None),
    ]:
        assert tab.open(path, step).status == 200, path
        if heading:
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)

    tab.open(f"/organiser/events/{seed}/edit", "edit-event")
    chinese = page.locator("details.translation").first
    expect(chinese).to_have_attribute("open", "")  # the seed has its Chinese words
    page.get_by_role("group", name="What").get_by_label("Title").fill("")
    page.get_by_label("Latitude (optional)").fill("95")
    tab.submit(page.get_by_role("button", name="Save changes"), "edit-mistakes")
    expect(page).to_have_title(ERROR_TITLE)
    expect(page.get_by_role("alert").first).to_contain_text("Give the event a title.")

    tab.open(f"/organiser/events/{full_event[0]}/attendees", "attendees")
    tab.submit(main.get_by_role("link", name="Cancel…").first, "cancel-rsvp")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancel")
