"""The messages an RSVP causes. Each function renders and queues; none decides anything."""

from flask import current_app
from flask_babel import gettext as _

from .dates import format_span
from .mail import queue_email
from .models import Rsvp, RsvpStatus


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an email, built from VIGIL_BASE_URL (no request needed)."""
    base = current_app.config["VIGIL_BASE_URL"]
    scheme, _sep, rest = base.partition("://")
    host, _slash, root = rest.partition("/")
    adapter = current_app.url_map.bind(host, script_name="/" + root, url_scheme=scheme)
    return adapter.build(endpoint, values, force_external=True)


def _context(rsvp: Rsvp, token: str | None = None) -> dict:
    event = rsvp.event
    return {
        "rsvp": rsvp,
        "event": event,
        "when": format_span(event.starts_at, event.ends_at, event.timezone),
        "event_url": external_url("events.show", slug=event.slug),
        "manage_url": external_url("rsvps.manage", token=token) if token else None,
    }


def _queue(rsvp: Rsvp, kind: str, subject: str, template: str, token: str | None = None):
    queue_email(
        kind=kind,
        to=rsvp.email,
        subject=subject,
        template=template,
        context=_context(rsvp, token),
    )


def queue_rsvp_received(rsvp: Rsvp, token: str) -> None:
    title = rsvp.event.title
    if rsvp.status == RsvpStatus.CONFIRMED:
        subject = _("You have a place: %(title)s", title=title)
        kind = "rsvp_confirmed"
    else:
        subject = _("You are on the waitlist: %(title)s", title=title)
        kind = "rsvp_waitlisted"
    _queue(rsvp, kind, subject, "rsvp_received", token)


def queue_manage_link(rsvp: Rsvp, token: str) -> None:
    subject = _("Your link to manage your RSVP: %(title)s", title=rsvp.event.title)
    _queue(rsvp, "rsvp_manage_link", subject, "rsvp_manage_link", token)


def queue_rsvp_changed(rsvp: Rsvp) -> None:
    subject = _("Your RSVP has been changed: %(title)s", title=rsvp.event.title)
    _queue(rsvp, "rsvp_changed", subject, "rsvp_changed")


def queue_rsvp_cancelled(rsvp: Rsvp) -> None:
    subject = _("Your RSVP has been cancelled: %(title)s", title=rsvp.event.title)
    _queue(rsvp, "rsvp_cancelled", subject, "rsvp_cancelled")


def queue_rsvp_restored(rsvp: Rsvp) -> None:
    if rsvp.status == RsvpStatus.CONFIRMED:
        subject = _("Your RSVP is back on: %(title)s", title=rsvp.event.title)
    else:
        subject = _("You are back on the waitlist: %(title)s", title=rsvp.event.title)
    _queue(rsvp, "rsvp_restored", subject, "rsvp_changed")


def queue_rsvp_promoted(rsvp: Rsvp) -> None:
    subject = _("A place has opened up for you: %(title)s", title=rsvp.event.title)
    _queue(rsvp, "rsvp_promoted", subject, "rsvp_promoted")
