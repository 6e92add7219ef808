"""From the home page to the event and its calendar link, in a real browser: a
download of a text/calendar file that a calendar library reads back as the event,
and the privacy notice every page links to."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from .tab import PUBLIC_LOOKS


@pytest.mark.parametrize("look", PUBLIC_LOOKS)
def test_from_the_home_page_the_event_downloads_as_a_calendar_file(open_tab, vigil, look):
    tab = open_tab("calendar", look)
    page = tab.page
    tab.open("/", "home")
    year = vigil.seed_slug.rpartition("-")[2]
    title = re.compile(f"^Human Rights Day {year}")
    tab.submit(page.get_by_role("link", name=title).first, "event")

    link = page.get_by_role("link", name="Download this event (.ics)")
    url, data = tab.download(link)

    # What the browser was sent, asked again in the same context (a download keeps no headers).
    response = page.request.get(url)
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.body() == data

    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert "Human Rights Day" in str(event["SUMMARY"])
    assert "Portland Place" in str(event["LOCATION"])
    starts = event.decoded("DTSTART").astimezone(ZoneInfo("Europe/London"))
    assert (starts.month, starts.day, starts.hour, starts.minute) == (12, 10, 11, 0)
    assert starts > datetime.now(ZoneInfo("Europe/London"))

    tab.submit(page.get_by_role("link", name="Privacy notice", exact=True), "privacy")
    assert page.url.endswith("/privacy")
