"""Response headers that keep pages from loading or leaking anything elsewhere."""

from flask import Flask, Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


# Two years, the value browsers' preload lists ask for.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def init_headers(app: Flask) -> None:
    # Set by nothing else in Vigil; added as one list, since every response pays for it.
    fixed = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        # Manage links carry a token: never let it travel in a Referer header.
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if app.config["VIGIL_HTTPS"]:
        fixed.append(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.extend(fixed)
        # Nothing is kept in a browser's or a proxy's cache unless a response says
        # otherwise (static files, public pages and calendar feeds do): a page with
        # someone's RSVP on it must not be readable from a shared computer's cache later.
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
