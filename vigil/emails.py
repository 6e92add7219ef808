"""What each message to an attendee says. Each function renders and queues; none decides.

Every message carries a manage link of its own (a fresh token, only its hash
stored), so the person can act from whichever email they find first.
"""

import uuid

from flask_babel import gettext as _

from .dates import format_span
from .event_calendar import attachment_for
from .links import external_url
from .mail import queue_email
from .models import Rsvp, RsvpStatus
from .outbox import message_exists
from .tokens import issue_rsvp_token

# Messages that carry a manage link in answer to an RSVP form.
LINK_KINDS = ("rsvp_confirmed", "rsvp_waitlisted", "rsvp_manage_link")


def _queue(
    rsvp: Rsvp,
    *,
    kind: str,
    key: str,
    subject: str,
    template: str,
    calendar: bool = False,
    optional: bool = False,
    extra: dict | None = None,
) -> bool:
    """Queue one message to `rsvp` unless `key` was used before. Returns whether queued.

    `optional` marks non-essential messages, which carry List-Unsubscribe pointing at
    the manage page (where updates can be switched off).
    """
    if rsvp.email is None or message_exists(key):
        return False  # a walk-up who gave no address is told nothing by email
    event = rsvp.event
    manage_url = external_url("rsvps.manage", token=issue_rsvp_token(rsvp))
    ics, filename = attachment_for(event) if calendar else (None, None)
    return queue_email(
        kind=kind,
        dedupe_key=key,
        to=rsvp.email,
        subject=subject,
        template=template,
        context={
            "rsvp": rsvp,
            "event": event,
            "when": format_span(event.starts_at, event.ends_at, event.timezone),
            "event_url": external_url("events.show", slug=event.slug),
            "manage_url": manage_url,
            **(extra or {}),
        },
        calendar=ics,
        calendar_filename=filename,
        unsubscribe_url=manage_url if optional else None,
        event_id=event.id,
        rsvp_id=rsvp.id,
    )


def _version(rsvp: Rsvp) -> str:
    """Changes to one RSVP are told once per state: a repeated post makes no new message."""
    return f"{rsvp.id}:{rsvp.updated_at.timestamp():.6f}"


def queue_rsvp_received(rsvp: Rsvp) -> None:
    title = rsvp.event.title
    if rsvp.status == RsvpStatus.CONFIRMED:
        kind, subject = "rsvp_confirmed", _("You have a place: %(title)s", title=title)
    else:
        kind, subject = "rsvp_waitlisted", _("You are on the waitlist: %(title)s", title=title)
    _queue(
        rsvp,
        kind=kind,
        key=f"rsvp_received:{rsvp.id}",
        subject=subject,
        template="rsvp_received",
        calendar=rsvp.status == RsvpStatus.CONFIRMED,
    )


def queue_manage_link(rsvp: Rsvp) -> None:
    subject = _("Your link to manage your RSVP: %(title)s", title=rsvp.event.title)
    _queue(
        rsvp,
        kind="rsvp_manage_link",
        key=f"rsvp_manage_link:{rsvp.id}:{uuid.uuid4().hex}",
        subject=subject,
        template="rsvp_manage_link",
    )


def queue_rsvp_changed(rsvp: Rsvp) -> None:
    subject = _("Your RSVP has been changed: %(title)s", title=rsvp.event.title)
    _queue(
        rsvp,
        kind="rsvp_changed",
        key=f"rsvp_changed:{_version(rsvp)}",
        subject=subject,
        template="rsvp_changed",
    )


def queue_rsvp_cancelled(rsvp: Rsvp) -> None:
    subject = _("Your RSVP has been cancelled: %(title)s", title=rsvp.event.title)
    _queue(
        rsvp,
        kind="rsvp_cancelled",
        key=f"rsvp_cancelled:{_version(rsvp)}",
        subject=subject,
        template="rsvp_cancelled",
    )


def queue_rsvp_restored(rsvp: Rsvp) -> None:
    if rsvp.status == RsvpStatus.CONFIRMED:
        subject = _("Your RSVP is back on: %(title)s", title=rsvp.event.title)
    else:
        subject = _("You are back on the waitlist: %(title)s", title=rsvp.event.title)
    _queue(
        rsvp,
        kind="rsvp_restored",
        key=f"rsvp_restored:{_version(rsvp)}",
        subject=subject,
        template="rsvp_changed",
        calendar=rsvp.status == RsvpStatus.CONFIRMED,
    )


def queue_rsvp_promoted(rsvp: Rsvp) -> None:
    subject = _("A place has opened up for you: %(title)s", title=rsvp.event.title)
    _queue(
        rsvp,
        kind="rsvp_promoted",
        key=f"rsvp_promoted:{_version(rsvp)}",
        subject=subject,
        template="rsvp_promoted",
        calendar=True,
    )


def queue_event_changed(rsvp: Rsvp) -> bool:
    event = rsvp.event
    subject = _("Changed time or place: %(title)s", title=event.title)
    return _queue(
        rsvp,
        kind="event_changed",
        key=f"event_changed:{event.id}:{event.sequence}:{rsvp.id}",
        subject=subject,
        template="event_changed",
        calendar=True,
    )


def queue_event_cancelled(rsvp: Rsvp) -> bool:
    event = rsvp.event
    subject = _("Cancelled: %(title)s", title=event.title)
    return _queue(
        rsvp,
        kind="event_cancelled",
        key=f"event_cancelled:{event.id}:{event.sequence}:{rsvp.id}",
        subject=subject,
        template="event_cancelled",
        calendar=True,
    )


def queue_reminder(rsvp: Rsvp) -> bool:
    event = rsvp.event
    subject = _("Reminder: %(title)s", title=event.title)
    key = f"reminder:{rsvp.id}:{int(event.starts_at.timestamp())}"
    return _queue(
        rsvp, kind="reminder", key=key, subject=subject, template="reminder", calendar=True
    )


def queue_organiser_message(
    rsvp: Rsvp, message_key: str, subject: str, body: str, optional: bool
) -> bool:
    return _queue(
        rsvp,
        kind="organiser_message",
        key=f"message:{message_key}:{rsvp.id}",
        subject=subject,
        template="organiser_message",
        optional=optional,
        extra={"body": body},
    )
