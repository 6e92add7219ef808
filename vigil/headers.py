"""Response headers that keep pages from loading or leaking anything elsewhere."""

from flask import Flask, Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


# Two years, the value browsers' preload lists ask for.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def init_headers(app: Flask) -> None:
    https = app.config["VIGIL_HTTPS"]

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # Manage links carry a token: never let it travel in a Referer header.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Nothing is kept in a browser's or a proxy's cache unless a response says
        # otherwise (static files and calendar feeds do): a page with someone's
        # RSVP on it must not be readable from a shared computer's cache later.
        response.headers.setdefault("Cache-Control", "no-store")
        if https:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
