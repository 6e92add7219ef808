"""A volunteer on the seed demonstration, in a real browser: the sign-up form's
mistakes, two shifts asked for, confirmed from the email, and one dropped."""

import pytest
from playwright.sync_api import expect

from .flows import ERROR_TITLE, confirm_from_email, new_address
from .tab import PUBLIC_LOOKS

# Two seed roles whose shifts do not overlap; the first is kept, the second dropped.
KEPT, DROPPED = "Set-up", "Clear-down"


def shift_of(page, role: str):
    """The (only) shift checkbox under a role's heading."""
    heading = page.get_by_role("heading", name=role, exact=True)
    return page.locator(".role").filter(has=heading).get_by_role("checkbox")


def sign_up(tab, step: str) -> None:
    tab.submit(tab.page.get_by_role("button", name="Sign up"), step)


@pytest.mark.parametrize("look", PUBLIC_LOOKS)
def test_a_volunteer_signs_up_confirms_from_the_email_and_drops_a_shift(
    open_tab, vigil, mailbox, look
):
    tab = open_tab("volunteer", look)
    page, main = tab.page, tab.page.get_by_role("main")
    tab.open(f"/events/{vigil.seed_slug}", "event")
    tab.submit(page.get_by_role("link", name="See the roles and sign up for a shift"), "roles")

    sign_up(tab, "empty-form")
    expect(page).to_have_title(ERROR_TITLE)
    summary = page.get_by_role("alert").first
    expect(summary).to_contain_text("Please enter your email address.")
    expect(summary).to_contain_text("shift")

    page.get_by_label("Email", exact=True).fill("someone@")
    shift_of(page, KEPT).check()
    sign_up(tab, "bad-email")
    expect(summary).to_contain_text("valid email address")

    email = new_address(f"volunteer-{look.label}")
    page.get_by_label("Email", exact=True).fill(email)
    shift_of(page, DROPPED).check()
    page.get_by_label("Name or pseudonym (optional)").fill("Lin")
    page.get_by_label("I agree", exact=False).check()
    sign_up(tab, "sent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    confirm_from_email(
        tab, mailbox, email, "Please confirm that you want to volunteer", "/volunteer/"
    )
    expect(main).to_contain_text("you are signed up")
    mailbox.wait_for(email, "Thank you for volunteering")

    held = page.get_by_role("listitem").filter(has=page.get_by_role("button", name="Drop"))
    expect(held).to_have_count(2)
    tab.submit(held.filter(has_text=DROPPED).get_by_role("button"), "dropped")
    expect(main).to_contain_text("The shift has been dropped")
    expect(page.get_by_role("listitem").filter(has_text=KEPT).first).to_be_visible()
    mailbox.wait_for(email, "Your shifts have changed")
