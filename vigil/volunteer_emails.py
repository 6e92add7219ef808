"""What each email to a volunteer says. Each function renders and queues; none decides."""

import uuid

from flask_babel import gettext as _

from .dates import format_span
from .event_calendar import cancelled_shift_attachment, shifts_attachment
from .links import external_url
from .mail import queue_email
from .models import Shift, VolunteerSignup
from .outbox import message_exists

LINK_KINDS = ("volunteer_confirmed", "volunteer_manage_link")


def _shift_lines(signup: VolunteerSignup) -> list[dict]:
    zone = signup.event.timezone
    return [
        {
            "role": a.shift.role,
            "shift": a.shift,
            "when": format_span(a.shift.starts_at, a.shift.ends_at, zone),
        }
        for a in sorted(signup.assignments, key=lambda a: a.shift.starts_at)
    ]


def _queue(
    signup: VolunteerSignup,
    *,
    kind: str,
    key: str,
    subject: str,
    template: str,
    calendar: bool = True,
    feed: bool = False,
    extra: dict | None = None,
    attachment: tuple[bytes, str] | None = None,
) -> bool:
    """Queue one message unless `key` was used before; every message has its own link."""
    from .volunteers import issue_manage_token, new_feed_token

    if message_exists(key):
        return False
    event = signup.event
    manage_url = external_url("volunteers.manage", token=issue_manage_token(signup))
    feed_url = (
        external_url("volunteers.shifts_feed", token=new_feed_token(signup)) if feed else None
    )
    ics, filename = attachment or (shifts_attachment(signup) if calendar else (None, None))
    return queue_email(
        kind=kind,
        dedupe_key=key,
        to=signup.email,
        subject=subject,
        template=template,
        context={
            "signup": signup,
            "event": event,
            "shifts": _shift_lines(signup),
            "when": format_span(event.starts_at, event.ends_at, event.timezone),
            "event_url": external_url("events.show", slug=event.slug),
            "manage_url": manage_url,
            "feed_url": feed_url,
            **(extra or {}),
        },
        calendar=ics,
        calendar_filename=filename,
        event_id=event.id,
        signup_id=signup.id,
    )


def queue_confirmation(signup: VolunteerSignup) -> None:
    subject = _("Thank you for volunteering: %(title)s", title=signup.event.title)
    _queue(
        signup,
        kind="volunteer_confirmed",
        key=f"volunteer_received:{signup.id}",
        subject=subject,
        template="volunteer_confirmed",
        feed=True,
    )


def queue_manage_link(signup: VolunteerSignup) -> None:
    subject = _("Your link to manage your volunteering: %(title)s", title=signup.event.title)
    _queue(
        signup,
        kind="volunteer_manage_link",
        key=f"volunteer_manage_link:{signup.id}:{uuid.uuid4().hex}",
        subject=subject,
        template="volunteer_manage_link",
        calendar=False,
    )


def queue_changed(signup: VolunteerSignup, struck: tuple = ()) -> None:
    """`struck` are calendar entries of shifts just given up, sent as cancelled."""
    subject = _("Your shifts have changed: %(title)s", title=signup.event.title)
    key = f"volunteer_changed:{signup.id}:{signup.updated_at.timestamp():.6f}"
    _queue(
        signup,
        kind="volunteer_changed",
        key=key,
        subject=subject,
        template="volunteer_changed",
        attachment=shifts_attachment(signup, struck),
    )


def queue_shift_reminder(signup: VolunteerSignup, shift: Shift) -> bool:
    subject = _(
        "Reminder, your shift tomorrow: %(role)s, %(title)s",
        role=shift.role.name,
        title=signup.event.title,
    )
    key = f"shift_reminder:{signup.id}:{shift.id}:{int(shift.starts_at.timestamp())}"
    when = format_span(shift.starts_at, shift.ends_at, signup.event.timezone)
    return _queue(
        signup,
        kind="shift_reminder",
        key=key,
        subject=subject,
        template="shift_reminder",
        calendar=False,
        extra={"reminder_shift": shift, "reminder_when": when},
    )


def queue_shift_cancelled(signup: VolunteerSignup, shift: Shift) -> bool:
    """Sent before the shift is deleted, so the message can still name it."""
    subject = _(
        "A shift has been cancelled: %(role)s, %(title)s",
        role=shift.role.name,
        title=signup.event.title,
    )
    when = format_span(shift.starts_at, shift.ends_at, signup.event.timezone)
    return _queue(
        signup,
        kind="shift_cancelled",
        key=f"shift_cancelled:{signup.id}:{shift.id}",
        subject=subject,
        template="shift_cancelled",
        attachment=cancelled_shift_attachment(signup, shift),
        extra={"reminder_shift": shift, "reminder_when": when},
    )
