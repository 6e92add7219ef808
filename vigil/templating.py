"""Template helpers: paragraphs from plain text, times in the event's zone, map links."""

import io
from datetime import UTC
from urllib.parse import quote, urlencode

import segno
from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from .dates import (
    date_block,
    format_hours,
    format_moment,
    format_short_date,
    format_span,
    format_time,
)
from .event_text import text_of
from .languages import LANGUAGES, TAGS, current_code, html_lang
from .links import external_url
from .models import Event
from .privacy import is_watched_mailbox


def paragraphs(text: str | None) -> Markup:
    """Plain text to <p> elements. Every piece is escaped: no HTML from the database runs."""
    blocks = [b.strip() for b in (text or "").replace("\r\n", "\n").split("\n\n")]
    html = "".join(
        f"<p>{'<br>'.join(str(escape(line)) for line in block.splitlines())}</p>"
        for block in blocks
        if block
    )
    return Markup(html)  # noqa: S704 - built only from escaped text above


def map_url(event: Event) -> str:
    """A plain link to OpenStreetMap; nothing is fetched from it by the page itself."""
    if event.latitude is not None and event.longitude is not None:
        lat, lon = f"{event.latitude:.5f}", f"{event.longitude:.5f}"
        query = urlencode({"mlat": lat, "mlon": lon})
        return f"https://www.openstreetmap.org/?{query}#map=18/{lat}/{lon}"
    return "https://www.openstreetmap.org/search?query=" + quote(event.full_address)


def google_calendar_url(event: Event) -> str:
    """A plain link to Google's "add event" page, followed only if the person clicks it."""
    fmt = "%Y%m%dT%H%M%SZ"
    start, end = event.starts_at.astimezone(UTC), event.ends_at.astimezone(UTC)
    details = "\n\n".join(
        part
        for part in (
            text_of(event, "summary"),
            text_of(event, "transport"),
            external_url("events.show", slug=event.slug),
        )
        if part
    )
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": text_of(event, "title"),
            "dates": f"{start.strftime(fmt)}/{end.strftime(fmt)}",
            "details": details,
            "location": f"{text_of(event, 'venue')}, {event.full_address}",
            "ctz": event.timezone,
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def subscribe_url() -> str:
    """The public feed as a webcal:// link, which calendar apps open as a subscription."""
    return webcal(feed_url())


def event_subscribe_url(event) -> str:
    """One event's calendar file as a subscription: it follows that event's changes."""
    return webcal(external_url("calendars.event_ics", slug=event.slug))


def webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]


def feed_url() -> str:
    return external_url("calendars.feed")


def qr_svg(text: str) -> Markup:
    """A QR code drawn on the server as inline SVG: no request to any QR service."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        buffer, kind="svg", scale=6, xmldecl=False, svgns=True, title=None, desc=None, omitsize=True
    )
    return Markup(buffer.getvalue().decode("ascii"))  # noqa: S704 - generated, not typed


# What organisers read for an event's or an RSVP's status.
STATUS_NAMES = {
    "draft": _l("draft"),
    "published": _l("published"),
    "cancelled": _l("cancelled"),
    "pending": _l("not confirmed yet"),
    "confirmed": _l("confirmed"),
    "waitlisted": _l("waitlisted"),
}

ROLE_NAMES = {"admin": _l("admin"), "organiser": _l("organiser"), "steward": _l("steward")}


def init_templating(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.globals.update(
        map_url=map_url,
        qr_svg=qr_svg,
        google_calendar_url=google_calendar_url,
        subscribe_url=subscribe_url,
        event_subscribe_url=event_subscribe_url,
        webcal=webcal,
        feed_url=feed_url,
        event_when=lambda e: format_span(e.starts_at, e.ends_at, e.timezone),
        event_day=lambda e: format_short_date(e.starts_at, e.timezone),
        shift_when=lambda s: format_span(s.starts_at, s.ends_at, s.role.event.timezone),
        moment=format_moment,
        time_of=format_time,
        event_hours=lambda e: format_hours(e.starts_at, e.ends_at, e.timezone),
        date_block=lambda e: date_block(e.starts_at, e.timezone),
        watched_mailbox=is_watched_mailbox,
        html_lang=html_lang,
        languages=LANGUAGES,
        language_tags=TAGS,
        language_code=current_code,
    )
    app.jinja_env.globals["org_name"] = app.config["VIGIL_ORG_NAME"]
    app.jinja_env.globals["status_names"] = STATUS_NAMES
    app.jinja_env.globals["role_names"] = ROLE_NAMES
