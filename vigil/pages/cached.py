"""Answering with a cached public page: the visitor's own CSRF token put in, and a
304 when the copy they hold is still the page.

A page is cached with a placeholder where the form's CSRF token goes; each answer
swaps in the visitor's token, a string replacement. Pages with a form are
`private`: the token belongs to one session. Their ETag covers the page, the
session's token and the hour, so a copy a browser keeps never carries a token old
enough to have expired.
"""

import hashlib
import time
from collections.abc import Callable

from flask import Response, abort, current_app, g, request, session
from flask_babel import get_locale

from ..languages import LANGUAGE_VARY
from ..page_cache import page_cache
from ..public_state import PageState
from ..session_cookies import csrf_field, csrf_token

CSRF_PLACEHOLDER = "vigil-csrf-token-placeholder"
# The static file whose new version makes a new page (it is looked up on every
# view). The icon and the manifest are linked too, but a page still naming an older
# version of them gets the current bytes, only revalidated (static_files.py).
LINKED_FILES = ("style.css",)
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()
HTML = "text/html; charset=utf-8"


def cached_page(
    kind: str, name: str, state: Callable[[], PageState | None], render: Callable[[], str]
) -> Response:
    """The page `kind`/`name`, rendered by `render()` when the cache has no current copy.

    Raises NotFound when `state()` says the page does not exist.
    """
    if session.get("_flashes"):
        # A one-off message for this visitor: not a page to share, nor to keep.
        return Response(render(), content_type=HTML)
    version = current_app.extensions.get("vigil_static_version", lambda _name: None)
    key = (kind, name, str(get_locale()), *(version(f) for f in LINKED_FILES))
    page = page_cache().page(key, state, lambda: _with_placeholder(render))
    if page is None:
        abort(404)
    if _PLACEHOLDER not in page.body:
        response = _response(page.body, page.etag, public=True)
        response.last_modified = page.rendered_at
        return response.make_conditional(request)
    token = csrf_token()
    hour = int(time.time() // 3600)
    etag = _digest(page.etag, session.get(csrf_field(), ""), hour)
    if request.if_none_match.contains(etag):
        return _response(b"", etag, status=304)
    return _response(page.body.replace(_PLACEHOLDER, token.encode()), etag)


def _with_placeholder(render: Callable[[], str]) -> bytes:
    """Render with the placeholder as the CSRF token (Flask-WTF keeps the request's
    token in `g` and uses it if present), leaving the visitor's session untouched."""
    field = csrf_field()
    own = g.pop(field, None)
    setattr(g, field, CSRF_PLACEHOLDER)
    try:
        return render().encode()
    finally:
        g.pop(field, None)
        if own is not None:
            setattr(g, field, own)


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _response(body: bytes, etag: str, *, public=False, status=200) -> Response:
    response = Response(body, status=status, content_type=HTML)
    response.set_etag(etag)
    # Always asked again (no-cache), answered with a 304 when nothing changed.
    response.headers["Cache-Control"] = "public, no-cache" if public else "private, no-cache"
    response.headers["Vary"] = LANGUAGE_VARY  # the cache keeps one copy per language
    return response
