"""The RSVP flow in Simplified and Traditional Chinese, in a real browser: the reader
switches with one tap (a plain link, so it works without JavaScript too), and every
page after it, the form's mistakes and the emails come in their script."""

import re

import pytest
from playwright.sync_api import expect

from vigil.languages import _compiled

from . import server
from .flows import new_address
from .tab import DESKTOP, PHONE, PHONE_WITHOUT_JAVASCRIPT, looks

CONSENT = (
    "I agree that the organisers keep these details to run this event, "
    "as the privacy notice explains"
)
SCRIPTS = {"zh_Hans": ("简体中文", "zh-Hans"), "zh_Hant": ("繁體中文", "zh-Hant")}


def words(code: str):
    """The catalogue's own words, as the reader sees them on the page."""
    return _compiled(code).gettext


@pytest.mark.parametrize("code", list(SCRIPTS))
@pytest.mark.parametrize("look", looks(PHONE, DESKTOP, PHONE_WITHOUT_JAVASCRIPT))
def test_an_rsvp_in_chinese_from_the_switcher_to_the_email(open_tab, mailbox, code, look):
    _ = words(code)
    name, tag = SCRIPTS[code]
    tab = open_tab(f"rsvp-{code}", look)
    page, main = tab.page, tab.page.get_by_role("main")
    tab.open(f"/events/{server.PLACES}", "english")
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")

    tab.submit(page.get_by_role("link", name=name), "switched")
    expect(page.locator("html")).to_have_attribute("lang", tag)
    assert page.url.endswith(f"/events/{server.PLACES}")  # the same page, no ?lang=
    expect(page.get_by_role("link", name=name)).to_have_attribute("aria-current", "true")
    expect(main).to_contain_text(_("Places available"))
    expect(main).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"))

    rsvp = page.get_by_role("button", name=_("RSVP"), exact=True)
    tab.submit(rsvp, "mistakes")
    expect(page).to_have_title(re.compile("^" + re.escape(_("Error:"))))
    expect(page.get_by_role("alert").first).to_contain_text(_("Please enter your email address."))

    email = new_address(f"{code}-{look.label}")
    page.get_by_label(_("Email"), exact=True).fill(email)
    page.get_by_label(_(CONSENT)).check()
    tab.submit(page.get_by_role("button", name=_("RSVP"), exact=True), "sent")
    expect(page.get_by_role("heading", level=1)).to_have_text(_("Check your email"))

    asked = mailbox.wait_for(email, _("Please confirm your RSVP: %(title)s").split("%")[0])
    tab.open(mailbox.link(asked, "/rsvp/"), "from-email")
    tab.submit(page.get_by_role("button", name=_("Confirm"), exact=True), "confirmed")
    expect(main).to_contain_text(_("You have a place."))
    placed = mailbox.wait_for(email, _("You have a place: %(title)s").split("%")[0])
    assert f'<html lang="{tag}">' in placed.get_body(preferencelist=("html",)).get_content()
