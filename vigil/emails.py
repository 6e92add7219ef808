"""What each email to a person with a private link says: attendees and volunteers alike.

Queueing and rendering are apart. The `queue_*` functions run inside the change
that causes a message and store only what it is about (`_queue`); the worker calls
`render` just before sending, which reads the person and the event as they are
then and makes the message's own private link (a fresh token, only its hash
stored). So a request renders nothing, and no usable link waits in the outbox.
None of these decides who is told or when; dedupe keys make each safe to queue twice.
"""

import dataclasses
import functools
import json
import uuid
from collections.abc import Callable

from flask_babel import force_locale
from flask_babel import gettext as _

from . import people
from .dates import format_moment, format_short_date, format_span
from .event_calendar import attachment_for, cancelled_shift_attachment, shifts_attachment
from .event_text import text_of
from .extensions import db
from .languages import locale_for
from .links import external_url
from .mail import queue_email, render_bodies
from .models import Rsvp, RsvpStatus, Shift, VolunteerSignup
from .outbox import Claimed, message_exists

# Messages that carry a private link in answer to a public form.
RSVP_LINK_KINDS = ("rsvp_pending", "rsvp_confirmed", "rsvp_waitlisted", "rsvp_manage_link")
VOLUNTEER_LINK_KINDS = ("volunteer_pending", "volunteer_confirmed", "volunteer_manage_link")

_MANAGE_PAGE = {Rsvp: "rsvps.manage", VolunteerSignup: "volunteers.manage"}


def _queue(
    person: people.Person,
    *,
    kind: str,
    key: str,
    subject: str,
    template: str,
    calendar: str | None = None,
    attachment: Callable[[], tuple[bytes, str]] | None = None,
    optional: bool = False,
    feed: bool = False,
    extra: dict | None = None,
) -> bool:
    """Queue one message to `person` unless `key` was used before. Returns whether queued.

    `calendar` ("event" or "shifts") is attached as it stands when the message is
    sent; `attachment` builds one now, for what will be gone by then (a removed
    shift). `optional` marks non-essential messages, which carry List-Unsubscribe
    pointing at the private page. `feed` gives a new personal feed address.
    `extra` holds plain values for the template.
    """
    if person.email is None:
        return False  # a walk-up who gave no address is told nothing by email
    if attachment is not None and message_exists(key):
        return False  # not worth building; the insert below skips a used key anyway
    ics, filename = attachment() if attachment else (None, None)
    return queue_email(
        kind=kind,
        dedupe_key=key,
        to=person.email,
        subject=subject,
        template=template,
        context={"calendar": calendar, "optional": optional, "feed": feed, "extra": extra or {}},
        calendar=ics,
        calendar_filename=filename,
        event_id=person.event_id,
        rsvp_id=person.id if isinstance(person, Rsvp) else None,
        signup_id=person.id if isinstance(person, VolunteerSignup) else None,
    )


def _in_their_language(queue: Callable) -> Callable:
    """Subjects and dates written when a message is queued come in the person's own
    language, whoever's request queues it: an organiser's change reaches each attendee
    in the language they RSVPed in."""

    @functools.wraps(queue)
    def in_their_language(person, *args, **kwargs):
        with force_locale(locale_for(person.language)):
            return queue(person, *args, **kwargs)

    return in_their_language


class PersonGone(LookupError):
    """The message's person was erased after it was claimed."""


def render(message: Claimed) -> tuple[Claimed, list[people.NewLink]]:
    """The message as it is sent, with its private link, and the link to store.

    Reads only; the caller stores the link (`people.store_links`) before sending.
    Raises PersonGone.
    """
    spec = json.loads(message.context)
    if message.rsvp_id is None and message.signup_id is None:
        # To an organiser (the audit trail's daily head): no private link, no person.
        text, html = render_bodies(message.template, {"subject": message.subject, **spec["extra"]})
        return dataclasses.replace(message, body_text=text, body_html=html), []
    if message.rsvp_id is not None:
        model, person_id = Rsvp, message.rsvp_id
    else:
        model, person_id = VolunteerSignup, message.signup_id
    person = db.session.get(model, person_id) if person_id is not None else None
    if person is None:
        raise PersonGone()
    with force_locale(locale_for(person.language)):
        return _render_for(message, spec, model, person)


def _render_for(message: Claimed, spec: dict, model, person) -> tuple[Claimed, list]:
    event = person.event
    token, link = people.new_link(person)
    links = [link]
    manage_url = external_url(_MANAGE_PAGE[model], token=token)
    context = {
        "subject": message.subject,
        "event": event,
        "when": format_span(event.starts_at, event.ends_at, event.timezone),
        "event_url": external_url("events.show", slug=event.slug),
        "manage_url": manage_url,
        # Only a message sent because the person asked for updates may say that
        # unticking them stops it: essential news comes whatever they chose.
        "optional": spec["optional"],
        **spec["extra"],
    }
    if model is Rsvp:
        context["rsvp"] = person
    else:
        context.update(signup=person, shifts=_shift_lines(person), feed_url=None)
        if spec["feed"]:
            feed_token, feed_link = people.new_link(person, feed=True)
            links.append(feed_link)
            context["feed_url"] = external_url("volunteers.shifts_feed", token=feed_token)
    text, html = render_bodies(message.template, context)
    calendar, filename = message.calendar, message.calendar_filename
    if calendar is None and spec["calendar"] == "event":
        ics, filename = attachment_for(event)
        calendar = ics.decode("utf-8")
    elif calendar is None and spec["calendar"] == "shifts" and person.assignments:
        ics, filename = shifts_attachment(person)
        calendar = ics.decode("utf-8")
    rendered = dataclasses.replace(
        message,
        body_text=text,
        body_html=html,
        calendar=calendar,
        calendar_filename=filename,
        # A link that can only stop updates: mail providers follow it for the person.
        unsubscribe_url=external_url("rsvps.unsubscribe", token=people.unsubscribe_token(person))
        if spec["optional"] and model is Rsvp
        else None,
    )
    return rendered, links


def subject_title(event) -> str:
    """The event as a subject names it: its title, or, where the event asks for discreet
    subjects, only its date, since a phone shows subjects on its lock screen."""
    if event.discreet_subjects:
        return _("your event on %(date)s", date=format_short_date(event.starts_at, event.timezone))
    return text_of(event, "title")


def _version(person: people.Person) -> str:
    """Changes to one person are told once per state: a repeated post makes no new message."""
    return f"{person.id}:{person.updated_at.timestamp():.6f}"


@_in_their_language
def queue_manage_link(person: people.Person) -> None:
    """A fresh private link, for a known address that used a public form again."""
    title = subject_title(person.event)
    if isinstance(person, Rsvp):
        send, kind = _to_attendee, "rsvp_manage_link"
        subject = _("Your link to manage your RSVP: %(title)s", title=title)
    else:
        send, kind = functools.partial(_to_volunteer, calendar=False), "volunteer_manage_link"
        subject = _("Your link to manage your volunteering: %(title)s", title=title)
    key = f"{kind}:{person.id}:{uuid.uuid4().hex}"
    send(person, kind=kind, key=key, subject=subject, template=kind)


# ---------------------------------------------------------------- attendees


def _to_attendee(rsvp: Rsvp, *, calendar: bool = False, **message) -> bool:
    """`calendar` attaches the event as it is now: news of a change must carry that
    change, even if another follows before the message is sent."""
    if calendar:
        message["attachment"] = lambda: attachment_for(rsvp.event)
    return _queue(rsvp, **message)


@_in_their_language
def queue_rsvp_received(rsvp: Rsvp) -> None:
    """The first email of a new RSVP: asking to confirm it (pending), or where it stands."""
    pending = rsvp.status == RsvpStatus.PENDING
    # Built when sent, like the link: the form's request does no more for a new
    # address than for a known one.
    _where_it_stands(rsvp, f"rsvp_received:{rsvp.id}", extra={"asked_to_confirm": pending})


@_in_their_language
def queue_rsvp_released(rsvp: Rsvp) -> None:
    """A place held for an address that was never confirmed went to someone else: the
    person is told, and may still confirm for a place if one is free, or the waitlist."""
    subject = _("Your place was released: %(title)s", title=subject_title(rsvp.event))
    _about_the_rsvp(rsvp, "rsvp_released", subject, "rsvp_released")


@_in_their_language
def queue_rsvp_confirmed(rsvp: Rsvp) -> None:
    """After the person confirmed: whether that gave them a place or the waitlist."""
    _where_it_stands(rsvp, f"rsvp_confirmed:{rsvp.id}")


def _where_it_stands(rsvp: Rsvp, key: str, extra: dict | None = None) -> None:
    title = subject_title(rsvp.event)
    if rsvp.status == RsvpStatus.PENDING:
        kind, subject = "rsvp_pending", _("Please confirm your RSVP: %(title)s", title=title)
    elif rsvp.status == RsvpStatus.CONFIRMED:
        kind, subject = "rsvp_confirmed", _("You have a place: %(title)s", title=title)
    else:
        kind, subject = "rsvp_waitlisted", _("You are on the waitlist: %(title)s", title=title)
    _queue(
        rsvp,
        kind=kind,
        key=key,
        subject=subject,
        template="rsvp_received",
        calendar="event" if rsvp.status == RsvpStatus.CONFIRMED else None,
        extra=extra,
    )


def _about_the_rsvp(rsvp: Rsvp, kind: str, subject: str, template: str, calendar=False) -> None:
    """A change to the RSVP itself, told once per state of the RSVP."""
    key = f"{kind}:{_version(rsvp)}"
    _to_attendee(rsvp, kind=kind, key=key, subject=subject, template=template, calendar=calendar)


@_in_their_language
def queue_rsvp_changed(rsvp: Rsvp) -> None:
    subject = _("Your RSVP has been changed: %(title)s", title=subject_title(rsvp.event))
    _about_the_rsvp(rsvp, "rsvp_changed", subject, "rsvp_changed")


@_in_their_language
def queue_rsvp_cancelled(rsvp: Rsvp) -> None:
    if rsvp.cancelled_by_organisers:
        subject = _(
            "The organisers cancelled your RSVP: %(title)s", title=subject_title(rsvp.event)
        )
    else:
        subject = _("Your RSVP has been cancelled: %(title)s", title=subject_title(rsvp.event))
    _about_the_rsvp(rsvp, "rsvp_cancelled", subject, "rsvp_cancelled")


@_in_their_language
def queue_rsvp_restored(rsvp: Rsvp) -> None:
    confirmed = rsvp.status == RsvpStatus.CONFIRMED
    if confirmed:
        subject = _("Your RSVP is back on: %(title)s", title=subject_title(rsvp.event))
    else:
        subject = _("You are back on the waitlist: %(title)s", title=subject_title(rsvp.event))
    _about_the_rsvp(rsvp, "rsvp_restored", subject, "rsvp_changed", calendar=confirmed)


@_in_their_language
def queue_rsvp_promoted(rsvp: Rsvp) -> None:
    subject = _("A place has opened up for you: %(title)s", title=subject_title(rsvp.event))
    _about_the_rsvp(rsvp, "rsvp_promoted", subject, "rsvp_promoted", calendar=True)


def _about_the_event(
    rsvp: Rsvp, kind: str, subject: str, once_per: str, extra: dict | None = None, key=None
) -> bool:
    """News of the event itself, with its calendar file, told once per `once_per`."""
    key = key or f"{kind}:{once_per}"
    return _to_attendee(
        rsvp, kind=kind, key=key, subject=subject, template=kind, calendar=True, extra=extra
    )


@_in_their_language
def queue_event_changed(rsvp: Rsvp, before: dict | None = None) -> bool:
    """A move, with `before` (the old time and place) to show beside the new; without
    it, the event is back on after a cancellation. Once per version of the event."""
    event = rsvp.event
    once_per = f"{event.id}:{event.sequence}:{rsvp.id}"
    key = f"event_changed:{once_per}"
    if before is None:
        subject = _("Back on: %(title)s", title=subject_title(event))
        return _about_the_event(rsvp, "event_reinstated", subject, once_per, key=key)
    subject = _("Changed time or place: %(title)s", title=subject_title(event))
    return _about_the_event(
        rsvp, "event_changed", subject, once_per, extra={"before": before}, key=key
    )


@_in_their_language
def queue_event_cancelled(rsvp: Rsvp) -> bool:
    event = rsvp.event
    subject = _("Cancelled: %(title)s", title=subject_title(event))
    once_per = f"{event.id}:{event.sequence}:{rsvp.id}"
    return _about_the_event(rsvp, "event_cancelled", subject, once_per)


@_in_their_language
def queue_reminder(rsvp: Rsvp) -> bool:
    """Keyed by the start time, so an event moved to a new time gets a new reminder."""
    subject = _("Reminder: %(title)s", title=subject_title(rsvp.event))
    once_per = f"{rsvp.id}:{int(rsvp.event.starts_at.timestamp())}"
    return _about_the_event(rsvp, "reminder", subject, once_per)


@_in_their_language
def queue_organiser_message(
    rsvp: Rsvp, message_key: str, subject: str, body: str, optional: bool
) -> bool:
    return _to_attendee(
        rsvp,
        kind="organiser_message",
        key=f"message:{message_key}:{rsvp.id}",
        subject=subject,
        template="organiser_message",
        optional=optional,
        extra={"body": body},
    )


# ---------------------------------------------------------------- volunteers


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


def _to_volunteer(
    signup: VolunteerSignup, *, calendar: bool = True, shift: Shift | None = None, **message
) -> bool:
    """`calendar` attaches the person's shifts; `shift` names the one a message is about,
    as it is now: it may be gone when the message is sent."""
    if shift is not None:
        message["extra"] = {
            "reminder_shift": {
                "role": {"name": shift.role.name, "what_to_bring": shift.role.what_to_bring},
                "meeting_point": shift.meeting_point,
            },
            "reminder_when": format_span(shift.starts_at, shift.ends_at, signup.event.timezone),
        }
    if calendar and "attachment" not in message:
        message["calendar"] = "shifts"
    return _queue(signup, **message)


@_in_their_language
def queue_volunteer_pending(signup: VolunteerSignup) -> None:
    """Asking a new sign-up to confirm; no calendar yet, since no shift is theirs."""
    _to_volunteer(
        signup,
        kind="volunteer_pending",
        key=f"volunteer_received:{signup.id}",
        subject=_(
            "Please confirm that you want to volunteer: %(title)s",
            title=subject_title(signup.event),
        ),
        template="volunteer_pending",
        calendar=False,
    )


@_in_their_language
def queue_volunteer_confirmation(signup: VolunteerSignup, missed: list[str] = ()) -> None:
    """After the person confirmed: their shifts, and those that filled up first."""
    _to_volunteer(
        signup,
        kind="volunteer_confirmed",
        key=f"volunteer_confirmed:{signup.id}",
        subject=_("Thank you for volunteering: %(title)s", title=subject_title(signup.event)),
        template="volunteer_confirmed",
        feed=bool(signup.assignments),
        calendar=bool(signup.assignments),
        extra={"missed": list(missed)},
    )


@_in_their_language
def queue_volunteer_changed(signup: VolunteerSignup, struck: tuple = ()) -> None:
    """`struck` are calendar entries of shifts just given up, sent as cancelled."""
    _to_volunteer(
        signup,
        kind="volunteer_changed",
        key=f"volunteer_changed:{_version(signup)}",
        subject=_("Your shifts have changed: %(title)s", title=subject_title(signup.event)),
        template="volunteer_changed",
        attachment=lambda: shifts_attachment(signup, struck),
    )


def _about_a_shift(
    signup: VolunteerSignup, shift: Shift, kind: str, subject: str, once_per: str = "", **options
) -> bool:
    key = f"{kind}:{signup.id}:{shift.id}{once_per}"
    return _to_volunteer(
        signup, kind=kind, key=key, subject=subject, template=kind, shift=shift, **options
    )


_EVENT_NEWS = {
    "cancelled": ("volunteer_event_cancelled", "Cancelled: %(title)s"),
    "moved": ("volunteer_event_changed", "Changed time or place: %(title)s"),
    "reinstated": ("volunteer_event_reinstated", "Back on: %(title)s"),
}


@_in_their_language
def queue_volunteer_event_news(signup: VolunteerSignup, what: str, before: dict | None) -> bool:
    """The event was cancelled, moved or reinstated: the volunteer's shifts as they are
    now (struck out in calendars when the event is cancelled), once per change."""
    event = signup.event
    kind, subject = _EVENT_NEWS[what]
    return _to_volunteer(
        signup,
        kind=kind,
        key=f"{kind}:{event.id}:{event.sequence}:{signup.id}",
        subject=_(subject, title=subject_title(event)),
        template="volunteer_event_news",
        extra={"what": what, "before": before},
    )


@_in_their_language
def queue_shift_reminder(signup: VolunteerSignup, shift: Shift) -> bool:
    """Keyed by the start time, so a shift moved to a new time gets a new reminder."""
    names = {"role": shift.role.name, "title": subject_title(signup.event)}
    # Named by its moment, not "tomorrow": it may be tonight, or in an hour.
    names["when"] = format_moment(shift.starts_at, signup.event.timezone)
    subject = _("Reminder, your shift on %(when)s: %(role)s, %(title)s", **names)
    once_per = f":{int(shift.starts_at.timestamp())}"
    return _about_a_shift(signup, shift, "shift_reminder", subject, once_per, calendar=False)


@_in_their_language
def queue_shift_cancelled(signup: VolunteerSignup, shift: Shift) -> bool:
    """Sent before the shift is deleted, so the message can still name it."""
    names = {"role": shift.role.name, "title": subject_title(signup.event)}
    subject = _("A shift has been cancelled: %(role)s, %(title)s", **names)
    return _about_a_shift(
        signup,
        shift,
        "shift_cancelled",
        subject,
        attachment=lambda: cancelled_shift_attachment(signup, shift),
    )
