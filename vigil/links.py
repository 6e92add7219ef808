"""Absolute links for emails and calendar files, built without a request."""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """E.g. http://127.0.0.1:5000/rsvp/<token>, from VIGIL_BASE_URL."""
    base = urlsplit(current_app.config["VIGIL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def calendar_host() -> str:
    """The host name in calendar UIDs: stable as long as the public address is."""
    return urlsplit(current_app.config["VIGIL_BASE_URL"]).hostname or "vigil.invalid"
