"""The organisers' area in a real browser: an admin's two-step log-in (enrolment,
then a code at the next log-in), and an organiser reading, searching and
exporting the attendee list and writing to everyone with a place."""

import re

import pytest
from helpers import text_body
from playwright.sync_api import expect

from .flows import ERROR_TITLE, code, expect_dashboard, log_in
from .tab import LOOKS

CODE_LABEL = "6-digit code from your authenticator app"
ORGANISER = "organiser@vigil.test"


@pytest.mark.parametrize("look", LOOKS)
def test_an_admin_turns_on_two_step_log_in_then_logs_in_with_a_code(open_tab, look):
    email = f"admin-{'phone' if look.phone else 'desktop'}@vigil.test"
    tab = open_tab("admin-two-step", look)
    page, main = tab.page, tab.page.get_by_role("main")
    log_in_button = page.get_by_role("button", name="Log in")

    tab.open("/organiser/login", "log-in")
    tab.submit(log_in_button, "empty-form")
    expect(page).to_have_title(ERROR_TITLE)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password at all")
    tab.submit(log_in_button, "wrong-password")
    expect(page.get_by_role("alert").first).to_contain_text("do not match")

    log_in(tab, email)  # an admin must set up two-step log-in first
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step log-in")
    secret = re.search(r"\b[A-Z2-7]{32}\b", main.inner_text()).group(0)
    right = code(secret)
    page.get_by_label(CODE_LABEL).fill(f"{(int(right) + 1) % 10**6:06d}")
    tab.submit(page.get_by_role("button", name="Turn on two-step log-in"), "wrong-code")
    expect(page).to_have_title(ERROR_TITLE)
    page.get_by_label(CODE_LABEL).fill(right)
    tab.submit(page.get_by_role("button", name="Turn on two-step log-in"), "enrolled")
    expect_dashboard(tab)
    expect(main).to_contain_text("Two-step log-in is on.")

    tab.submit(page.get_by_role("button", name="Log out"), "logged-out")
    expect(main).to_contain_text("You have logged out.")
    log_in(tab, email)
    page.get_by_label(CODE_LABEL).fill(code(secret, later=1))  # the last one works once
    tab.submit(page.get_by_role("button", name="Log in"), "code-sent")
    expect_dashboard(tab)


@pytest.mark.parametrize("look", LOOKS)
def test_an_organiser_searches_exports_and_messages_attendees(open_tab, mailbox, full_event, look):
    slug, attendee = full_event
    tab = open_tab("organiser-attendees", look)
    page, main = tab.page, tab.page.get_by_role("main")
    log_in(tab, ORGANISER)
    expect_dashboard(tab)
    expect(main).to_contain_text("Vigil with one place")

    numbers = main.get_by_role("listitem").filter(has_text="Vigil with one place")
    expect(numbers.locator("dd").first).to_have_text("1")  # confirmed: the first attendee

    tab.open(f"/organiser/events/{slug}/attendees", "attendees")
    expect(main).to_contain_text(attendee)
    table = page.get_by_role("region", name="Attendees")
    wide = table.evaluate("box => [box.scrollWidth, box.clientWidth]")
    if not look.phone:  # every column in view, nothing to scroll sideways
        assert wide[0] <= wide[1], f"the table is {wide[0]} px wide in {wide[1]} px"
    header = page.get_by_role("banner")
    expect(header).to_contain_text("Vigil with one place")
    if not look.phone:  # the event's name and numbers stay in view as the list scrolls
        assert header.evaluate("h => getComputedStyle(h).position") == "sticky"
    search = page.get_by_label(re.compile("name or email", re.IGNORECASE))
    search.fill("nobody-by-this-name@example.org")
    tab.submit(page.get_by_role("button", name="Search"), "search-none")
    expect(main).not_to_contain_text(attendee)
    search.fill(attendee)
    tab.submit(page.get_by_role("button", name="Search"), "search-found")
    expect(main).to_contain_text(attendee)

    url, data = tab.download(page.get_by_role("link", name=re.compile("CSV")))
    assert url.endswith(f"/organiser/events/{slug}/attendees.csv")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith(("name,", "Name,")) and attendee in text

    tab.submit(page.get_by_role("link", name="Printable check-in list"), "check-in-list")
    rows = page.get_by_role("row")
    expect(rows).to_have_count(2)  # the heading and the one person with a place
    expect(rows.nth(1)).to_contain_text("First Attendee")
    expect(rows.nth(1)).to_contain_text(re.compile(r"[A-HJ-NP-Z2-9]{6}"))
    page.emulate_media(media="print")
    expect(page.get_by_role("banner")).to_be_hidden()
    tab.page.screenshot(path=tab.screenshot_path("check-in-list-printed"), full_page=True)
    page.emulate_media(media="screen")

    tab.open(f"/organiser/events/{slug}/message", "message")
    preview = page.get_by_role("button", name="Preview")
    tab.submit(preview, "empty-message")
    expect(page).to_have_title(ERROR_TITLE)
    subject = f"Bring a candle ({look.label})"
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("We meet at six.\n\nBring a candle.")
    tab.submit(preview, "preview")
    expect(main).to_contain_text("This goes to 1 person.")
    tab.submit(page.get_by_role("button", name="Send to 1 person"), "sent")
    expect(main).to_contain_text("Message queued for 1 person.")
    assert "Bring a candle." in text_body(mailbox.wait_for(attendee, subject))
