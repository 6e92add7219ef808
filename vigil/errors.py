"""Domain errors and the one error page renderer for every HTTP error code."""

import logging

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .logs import describe_exception

log = logging.getLogger(__name__)


class VigilError(Exception):
    """A broken rule; the message is written for the person who caused it, and `field`
    names the form field it belongs next to, when there is one."""

    message = _l("That could not be done.")
    status_code = 409
    field: str | None = None

    def __init__(self, message=None, field: str | None = None):
        if message is not None:
            self.message = message
        if field is not None:
            self.field = field
        super().__init__(str(self.message))


class RsvpsClosed(VigilError):
    """The event does not take RSVPs now (draft, cancelled, ended or outside its window)."""

    message = _l("This event is not taking RSVPs.")


class NotEnoughPlaces(VigilError):
    message = _l("There are not enough places left.")


class AddressTaken(VigilError):
    """Only organisers see this: an address with an RSVP already, when adding by hand."""

    message = _l("That address has an RSVP for this event already: search for it in the list.")


class RsvpLocked(VigilError):
    """The event is over or cancelled, so the RSVP can no longer change."""

    message = _l("This RSVP can no longer be changed.")


class RsvpGone(VigilError):
    """The RSVP was erased while this request was on its way."""

    message = _l("This RSVP no longer exists.")
    status_code = 404


class SignupGone(VigilError):
    """The volunteer withdrew while this request was on its way."""

    message = _l("This sign-up no longer exists.")
    status_code = 404


class InvalidState(VigilError):
    message = _l("That is not possible for this RSVP any more.")


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("Too much data"),
    422: _l("Could not process that"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}

ERROR_TEXTS = {
    400: _l("The request could not be understood. Go back, reload the page and try again."),
    403: _l("You are not allowed to see this page."),
    404: _l("There is nothing here. The link may be mistyped, or what it pointed to is gone."),
    405: _l("This address does not accept that kind of request."),
    413: _l("What you sent is too large."),
    422: _l("What you sent could not be processed."),
    429: _l("Too many requests. Please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing you did caused it; please try again."),
    503: _l("The service is briefly unavailable. Please try again in a minute."),
}


FALLBACK_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Error</title>"
    "<h1>Something went wrong</h1><p>Please try again in a minute.</p></html>"
)


def render_error(code: int):
    title = ERROR_TITLES.get(code, ERROR_TITLES[500])
    text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    try:
        return render_template("errors/error.html", code=code, title=title, text=text), code
    except Exception:  # the layout itself failed (e.g. the database is down)
        log.error("error page could not be rendered")
        return FALLBACK_PAGE, code


def register_error_handlers(app: Flask) -> None:
    """Every error, expected or not, gets a page in the site's layout and no details."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = render_error(exc.code or 500)
        if exc.code == 405 and exc.valid_methods:
            return response[0], response[1], {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # The database is down or too busy: a passing condition, not a bug in the request.
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return render_error(503)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Where it failed goes to the log, never the message (it may quote input).
        log.error("unhandled error: %s", describe_exception(exc))
        return render_error(InternalServerError.code)
