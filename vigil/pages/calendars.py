"""Calendar files over HTTP: one event's download and the public subscription feed.

Responses carry ETag and Last-Modified and answer conditional requests with 304,
so calendar apps polling every hour cost almost nothing. The feed is built
once per change and kept in the page cache, so a 304 costs no query.
"""

import hashlib
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import get_locale

from .. import not_modified
from ..event_calendar import ALARM_CHOICES, entry_for, event_file, feed_file
from ..events import feed_events, public_event
from ..page_cache import page_cache
from ..public_state import feed_state

bp = Blueprint("calendars", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"


def etag_of(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def calendar_response(
    etag: str,
    last_modified: datetime | None,
    build,
    *,
    filename: str | None = None,
    personal: bool = False,
) -> Response:
    """Answer 304 when the client's copy is current; otherwise call `build()` for the bytes.

    Personal feeds (a volunteer's shifts) are never stored by shared caches and ask
    search engines not to index the secret address. Nothing is compressed: some
    calendar clients mishandle gzip, and the ETag is of the plain bytes.
    """
    if request.if_none_match.contains(etag):
        # The client's copy is current: answered before anything else is built.
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache" if personal else PUBLIC_CACHE
        return response
    response = Response(status=200, content_type=CALENDAR_TYPE)
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = "private, no-cache" if personal else PUBLIC_CACHE
    if personal:
        response.headers["X-Robots-Tag"] = "noindex"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.make_conditional(request)
    if response.status_code == 304:
        return response
    response.set_data(build())
    return response


@bp.get("/events/<slug>.ics")
def event_ics(slug: str):
    """Raises NotFound for unknown slugs and drafts."""
    event = public_event(slug)
    if event is None:
        abort(404)
    entry = entry_for(event)
    # ?alarm=60 or ?alarm=1440: a reminder an hour or a day before; anything else, none.
    alarm = request.args.get("alarm", type=int)
    alarm = alarm if alarm in ALARM_CHOICES else None
    etag = etag_of("event", entry, current_app.config["VIGIL_BASE_URL"], alarm)
    return calendar_response(
        etag, event.updated_at, lambda: event_file(event, alarm), filename=f"{event.slug}.ics"
    )


@bp.get("/calendar.ics")
def feed():
    """From the page cache: a 304 costs no query at all while nothing has changed."""
    name = current_app.config["VIGIL_ORG_NAME"]
    locale = str(get_locale())

    def etag(fingerprint: tuple) -> str:
        return etag_of("feed", fingerprint, name, current_app.config["VIGIL_BASE_URL"], locale)

    cache, key = page_cache(), ("feed", "", locale)
    page = cache.page(key, feed_state, lambda: feed_file(feed_events(), name), etag)
    # The next poll with this ETag is answered before Flask while the page stands.
    request.environ[not_modified.REMEMBER] = lambda environ: cache.is_current(key, page.etag)
    # No Last-Modified: an event leaving the feed (unpublished, or passed) changes it
    # without any newer timestamp, so only the ETag can say whether it changed.
    return calendar_response(page.etag, None, lambda: page.body)
