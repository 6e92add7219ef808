"""Forms check the shape of input: presence, length, format, range. Rules live in domain code."""

import functools
import math
import re
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from . import models as m
from .privacy import is_watched_mailbox

_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(multi_line: bool = False):
    """Refuse invisible control characters (null bytes and the like) in text fields."""
    pattern = _CONTROL_MULTI_LINE if multi_line else _CONTROL_ONE_LINE

    def check(form, field):
        if field.data and pattern.search(field.data):
            raise ValidationError(_l("Please remove the invisible control characters."))

    return check


def email_address(form, field):
    """Syntax check only: no DNS look-up, so nothing about the person leaves the server."""
    if not field.data:
        return
    try:
        validate_email(field.data.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            _l("Please enter a valid email address, like name@example.org.")
        ) from exc


class BoundedIntegerField(IntegerField):
    """An integer field that refuses absurdly long numbers before converting them
    (a 400-digit number would overflow the range check's float)."""

    def process_formdata(self, valuelist):
        if valuelist and len(valuelist[0].strip()) > 12:
            self.data = None
            raise ValueError(_l("Please enter a smaller number."))
        super().process_formdata(valuelist)


def strip(value):
    return value.strip() if isinstance(value, str) else value


class VigilForm(FlaskForm):
    """Reads only urlencoded or multipart text fields: never JSON values or uploaded files,
    which would hand validators numbers, dicts or files instead of text."""

    class Meta:
        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto:
                return formdata
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                return request.form
            return None


def invalid_status(form) -> int:
    """400 for a missing or stale CSRF token, 422 for fields a person can correct."""
    return 400 if "csrf_token" in form.errors else 422


class RsvpDetailsMixin:
    name = StringField(
        _l("Name (optional)"),
        description=_l("Any name you like: a first name or a pseudonym is fine."),
        filters=[strip],
        validators=[Optional(), Length(max=m.NAME_MAX), no_control_characters()],
    )
    guests = BoundedIntegerField(
        _l("Guests coming with you"),
        description=_l("People you bring along who are not RSVPing themselves."),
        default=0,
        validators=[InputRequired(_l("Enter a number of guests, 0 if none."))],
    )
    accessibility = TextAreaField(
        _l("Access needs (optional)"),
        description=_l("Anything that would help you take part, such as step-free access."),
        filters=[strip],
        validators=[Optional(), Length(max=m.ACCESSIBILITY_MAX), no_control_characters(True)],
    )
    wants_updates = BooleanField(_l("Email me occasional updates about this event"))

    def set_guest_limit(self) -> None:
        """The maximum comes from configuration, so it is added per request."""
        limit = current_app.config["VIGIL_MAX_GUESTS"]
        self.guests.validators = [
            *self.guests.validators,
            NumberRange(
                min=0,
                max=limit,
                message=_l("Guests must be between 0 and %(max)d.", max=limit),
            ),
        ]
        self.guests.render_kw = {"min": 0, "max": limit, "inputmode": "numeric"}

    def details(self) -> dict:
        return {
            "name": self.name.data or None,
            "guests": self.guests.data,
            "accessibility": self.accessibility.data or None,
            "wants_updates": bool(self.wants_updates.data),
        }


def email_field(description) -> StringField:
    """The required address field of the public forms; the description says why it is asked."""
    return StringField(
        _l("Email"),
        description=description,
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter your email address.")),
            Length(max=m.EMAIL_MAX),
            no_control_characters(),
            email_address,
        ],
        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"},
    )


class ConsentMixin:
    """Attending a protest reveals a political opinion: the person agrees explicitly,
    by ticking a box that starts unticked, and the privacy notice is one tap away."""

    consent = BooleanField(
        _l(
            "I agree that the organisers keep these details to run this event, "
            "as the privacy notice explains"
        ),
        validators=[
            DataRequired(_l("Please tick the box to agree, or we cannot keep your details."))
        ],
    )
    # Set once the person has seen the warning about their mail provider.
    mailbox_warning_seen = HiddenField()
    # A honeypot: hidden from people (and from screen readers and the keyboard), so
    # only a script filling in every field puts anything here.
    website = StringField(_l("Leave this empty"))

    def is_from_a_script(self) -> bool:
        return bool(self.website.data)

    def needs_mailbox_warning(self) -> bool:
        """True the first time an address at a watched provider is sent: the form is
        shown again with the warning, and the address is taken if sent once more."""
        if self.mailbox_warning_seen.data == "1" or not is_watched_mailbox(self.email.data):
            return False
        self.mailbox_warning_seen.data = "1"
        return True


class RsvpForm(ConsentMixin, RsvpDetailsMixin, VigilForm):
    email = email_field(
        _l("Needed to send you a confirmation and a private link to change or cancel.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_guest_limit()


class ManageRsvpForm(RsvpDetailsMixin, VigilForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_guest_limit()


class CsrfOnlyForm(VigilForm):
    """A button that only needs the CSRF token (cancel, restore, new calendar link)."""


class EraseRsvpForm(VigilForm):
    confirm = BooleanField(
        _l("I understand this deletes my RSVP and cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm that you want to erase your RSVP."))],
    )


_PHONE = re.compile(r"[+0-9 ()\-.]{6,40}")


def phone_number(form, field):
    if field.data and not _PHONE.fullmatch(field.data):
        raise ValidationError(_l("Please enter a phone number using digits, spaces and +."))


MAX_ID = 2**31 - 1  # ids beyond what the database's integer holds are simply unknown


def known_ids(form, field):
    if any(not 1 <= value <= MAX_ID for value in field.data or []):
        raise ValidationError(_l("Choose shifts from this event's list."))


class ShiftChoiceMixin:
    shifts = SelectMultipleField(
        _l("Shifts"),
        coerce=int,
        validate_choice=False,  # which shifts exist and are open is a rule: see volunteers.py
        validators=[known_ids],
    )
    phone = StringField(
        _l("Phone (only if a role you choose needs it)"),
        description=_l("Stewards and first aiders must be reachable on the day."),
        filters=[strip],
        validators=[Optional(), Length(max=m.PHONE_MAX), no_control_characters(), phone_number],
        render_kw={"autocomplete": "tel", "type": "tel", "inputmode": "tel"},
    )


class VolunteerForm(ConsentMixin, ShiftChoiceMixin, VigilForm):
    email = email_field(_l("For your confirmation, your shifts and a private link to change them."))
    name = StringField(
        _l("Name or pseudonym (optional)"),
        description=_l("What the coordinator should call you on the day."),
        filters=[strip],
        validators=[Optional(), Length(max=m.NAME_MAX), no_control_characters()],
    )
    languages = StringField(
        _l("Languages you speak (optional)"),
        description=_l("For example: English, Mandarin, Cantonese, Uyghur, Tibetan."),
        filters=[strip],
        validators=[Optional(), Length(max=m.LANGUAGES_MAX), no_control_characters()],
    )
    notes = TextAreaField(
        _l("Notes for the coordinator (optional)"),
        description=_l("Only what helps on the day, such as when you can arrive."),
        filters=[strip],
        validators=[Optional(), Length(max=m.NOTES_MAX), no_control_characters(True)],
    )


class AddShiftsForm(ShiftChoiceMixin, VigilForm):
    pass


class DropShiftForm(VigilForm):
    shift = BoundedIntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class WithdrawForm(VigilForm):
    confirm = BooleanField(
        _l("I understand this deletes my sign-up and cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm that you want to withdraw."))],
    )


class LoginForm(VigilForm):
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter your email address.")),
            Length(max=m.EMAIL_MAX),
            no_control_characters(),
        ],
        render_kw={"autocomplete": "username", "type": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password.")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )


class RoleForm(VigilForm):
    name = StringField(
        _l("Role"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the role a name.")),
            Length(max=m.ROLE_NAME_MAX),
            no_control_characters(),
        ],
    )
    duty = TextAreaField(
        _l("What the role does"),
        filters=[strip],
        validators=[Optional(), Length(max=m.ROLE_TEXT_MAX), no_control_characters(True)],
    )
    what_to_bring = StringField(
        _l("What to bring"),
        filters=[strip],
        validators=[Optional(), Length(max=m.ROLE_TEXT_MAX), no_control_characters()],
    )
    briefing = StringField(
        _l("Briefing note (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=m.ROLE_TEXT_MAX), no_control_characters()],
    )
    needs_phone = BooleanField(_l("Volunteers in this role must give a phone number"))

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "duty": self.duty.data or "",
            "what_to_bring": self.what_to_bring.data or "",
            "briefing": self.briefing.data or None,
            "needs_phone": bool(self.needs_phone.data),
        }


class ShiftForm(VigilForm):
    starts = DateTimeLocalField(
        _l("Starts (local time at the event)"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Give a start time."))],
    )
    ends = DateTimeLocalField(
        _l("Ends (local time at the event)"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Give an end time."))],
    )
    capacity = BoundedIntegerField(
        _l("Places"),
        validators=[
            InputRequired(_l("Give a number of places.")),
            NumberRange(min=1, max=10000, message=_l("Places must be between 1 and 10000.")),
        ],
    )
    meeting_point = StringField(
        _l("Meeting point"),
        filters=[strip],
        validators=[Optional(), Length(max=m.MEETING_POINT_MAX), no_control_characters()],
    )
    note = StringField(
        _l("Note (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=m.ROLE_TEXT_MAX), no_control_characters()],
    )


class ConfirmForm(VigilForm):
    confirm = BooleanField(
        _l("Yes, remove it and email the people on it"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class NotifyConfirmForm(VigilForm):
    confirm = BooleanField(
        _l("Yes, go ahead and email them"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class AttendeeSearchForm(VigilForm):
    """Sent by POST: a name or address typed here must not end up in a URL or a log."""

    q = StringField(
        _l("Name or email contains"),
        filters=[strip],
        validators=[Optional(), Length(max=m.EMAIL_MAX), no_control_characters()],
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("confirmed", _l("Confirmed")),
            SelectChoice("waitlisted", _l("Waitlisted")),
            SelectChoice("cancelled", _l("Cancelled")),
        ],
        default="",
    )
    order = SelectField(
        _l("Order"),
        choices=[
            SelectChoice("oldest", _l("Oldest first")),
            SelectChoice("newest", _l("Newest first")),
        ],
        default="oldest",
    )
    page = BoundedIntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


class CheckInForm(VigilForm):
    """Search by code, name or address; sent by POST so nothing typed reaches a URL."""

    q = StringField(
        _l("Code, name or email"),
        filters=[strip],
        validators=[Optional(), Length(max=m.EMAIL_MAX), no_control_characters()],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    rsvp = BoundedIntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


class MessageForm(VigilForm):
    audience = SelectField(
        _l("Send to"),
        choices=[
            SelectChoice("confirmed", _l("Everyone with a place")),
            SelectChoice("updates", _l("Only people who asked for updates")),
        ],
        default="confirmed",
    )
    subject = StringField(
        _l("Subject"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the message a subject.")),
            Length(max=200),
            no_control_characters(),
        ],
    )
    body = TextAreaField(
        _l("Message"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write the message.")),
            Length(max=5000),
            no_control_characters(True),
        ],
    )
    # One id per message being written: the same form sent twice sends nothing twice.
    key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    confirm = BooleanField(_l("Send it now"))


@functools.cache
def iana_zones() -> tuple[str, ...]:
    """The IANA names a person would pick (Area/Location), sorted; read from disk once."""
    skip = ("Etc/", "posix/", "right/", "SystemV/", "US/")
    names = sorted(z for z in available_timezones() if "/" in z and not z.startswith(skip))
    return ("UTC", *names)


def known_zone(form, field):
    if field.data not in iana_zones():
        raise ValidationError(_l("Choose a time zone from the list."))


def finite(form, field):
    """`nan` and `inf` are floats too; no map has room for them."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Please enter a number."))


def demand_lines(form, field):
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    if len(lines) > 20:
        raise ValidationError(_l("Up to 20 demands, one per line."))
    if any(len(line) > m.DEMAND_MAX for line in lines):
        raise ValidationError(_l("Each demand can be up to %(max)d characters.", max=m.DEMAND_MAX))


def _text(label, limit, required=None, multi_line=False, description=None, **kwargs):
    kind = TextAreaField if multi_line else StringField
    first = DataRequired(required) if required else Optional()
    return kind(
        label,
        description=description,
        filters=[strip],
        validators=[first, Length(max=limit), no_control_characters(multi_line)],
        **kwargs,
    )


def _local_time(label, required=None):
    return DateTimeLocalField(
        label,
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(required)] if required else [Optional()],
    )


class EventForm(VigilForm):
    """Everything about an event but its status, which has actions of its own."""

    title = _text(_l("Title"), m.TITLE_MAX, _l("Give the event a title."))
    slug = _text(
        _l("Web address"),
        m.SLUG_MAX,
        _l("Give the event a web address."),
        description=_l("The end of the event's link: lower-case letters, digits and hyphens."),
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    summary = _text(_l("One-line summary"), m.SUMMARY_MAX)
    description = _text(
        _l("Description"),
        m.DESCRIPTION_MAX,
        multi_line=True,
        description=_l("Plain text; leave a blank line between paragraphs."),
        render_kw={"rows": 10},
    )
    demands = TextAreaField(
        _l("Demands"),
        description=_l("One per line."),
        filters=[strip],
        validators=[Optional(), no_control_characters(True), demand_lines],
        render_kw={"rows": 5},
    )
    venue = _text(_l("Place"), m.VENUE_MAX, _l("Say where people gather."))
    street_address = _text(_l("Street address"), m.ADDRESS_MAX, _l("Give the street address."))
    locality = _text(_l("Town or city"), m.LOCALITY_MAX, _l("Give the town or city."))
    postcode = _text(_l("Postcode"), m.POSTCODE_MAX, _l("Give the postcode."))
    transport = _text(_l("Getting there"), m.TRANSPORT_MAX)
    latitude = FloatField(
        _l("Latitude (optional)"),
        validators=[
            Optional(),
            finite,
            NumberRange(-90, 90, _l("Latitude is between -90 and 90.")),
        ],
        render_kw={"inputmode": "decimal"},
    )
    longitude = FloatField(
        _l("Longitude (optional)"),
        validators=[
            Optional(),
            finite,
            NumberRange(-180, 180, _l("Longitude is between -180 and 180.")),
        ],
        render_kw={"inputmode": "decimal"},
    )
    timezone = SelectField(
        _l("Time zone"),
        description=_l("Where the event happens; the times below are local times there."),
        default="Europe/London",
        validate_choice=False,
        validators=[known_zone],
    )
    starts = _local_time(_l("Starts"), _l("Give a start time."))
    ends = _local_time(_l("Ends"), _l("Give an end time."))
    capacity = BoundedIntegerField(
        _l("Places (optional)"),
        description=_l("Leave empty for no limit; guests count too."),
        validators=[
            Optional(),
            NumberRange(0, 1_000_000, _l("Places must be a whole number, 0 or more.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    rsvp_opens = _local_time(_l("RSVPs open (optional)"))
    rsvp_closes = _local_time(_l("RSVPs close (optional)"))
    confirm_by_email = SelectField(
        _l("Hold places only for people who confirm by email"),
        description=_l(
            "Stops floods of RSVPs with made-up addresses from taking every place. "
            "Unconfirmed RSVPs are released after a day, and the waitlist moves up."
        ),
        choices=[
            SelectChoice("", _l("When places are limited (recommended)")),
            SelectChoice("yes", _l("Always")),
            SelectChoice("no", _l("Never")),
        ],
        default="",
    )
    retention_days = BoundedIntegerField(
        _l("Delete attendees' details this many days after the event (optional)"),
        description=_l("Leave empty for the usual period. Only the numbers are kept."),
        validators=[
            Optional(),
            NumberRange(0, 3650, _l("Give a number of days from 0 to 3650.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    confirm = BooleanField(_l("Yes, save and email them"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(z, z.replace("_", " ")) for z in iana_zones()]

    @classmethod
    def filled(cls, values: dict) -> "EventForm":
        """A form showing stored or proposed values (demands one per line)."""
        confirm = {True: "yes", False: "no"}.get(values.get("confirm_by_email"), "")
        return cls(
            formdata=None,
            data={**values, "demands": "\n".join(values["demands"]), "confirm_by_email": confirm},
        )

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "slug": self.slug.data,
            "summary": self.summary.data or "",
            "description": self.description.data or "",
            "demands": [
                line.strip() for line in (self.demands.data or "").splitlines() if line.strip()
            ],
            "venue": self.venue.data,
            "street_address": self.street_address.data,
            "locality": self.locality.data,
            "postcode": self.postcode.data,
            "transport": self.transport.data or "",
            "latitude": self.latitude.data,
            "longitude": self.longitude.data,
            "timezone": self.timezone.data,
            "starts": self.starts.data,
            "ends": self.ends.data,
            "capacity": self.capacity.data,
            "rsvp_opens": self.rsvp_opens.data,
            "rsvp_closes": self.rsvp_closes.data,
            "retention_days": self.retention_days.data,
            "confirm_by_email": {"yes": True, "no": False}.get(self.confirm_by_email.data),
        }


class WalkUpForm(VigilForm):
    """An organiser adding someone by hand; only what the day needs, nothing required."""

    name = _text(_l("Name (optional)"), m.NAME_MAX, description=_l("A first name or a nickname."))
    email = StringField(
        _l("Email (optional)"),
        description=_l("Only if they want the confirmation and a link to change or cancel."),
        filters=[strip],
        validators=[Optional(), Length(max=m.EMAIL_MAX), no_control_characters(), email_address],
        render_kw={"autocomplete": "off", "type": "email", "inputmode": "email"},
    )
    guests = BoundedIntegerField(
        _l("Guests with them"),
        default=0,
        validators=[InputRequired(_l("Enter a number of guests, 0 if none."))],
    )
    accessibility = _text(_l("Access needs (optional)"), m.ACCESSIBILITY_MAX, multi_line=True)
    check_in = BooleanField(_l("They are here now: check them in"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        RsvpDetailsMixin.set_guest_limit(self)


ROLE_CHOICES = [
    SelectChoice("organiser", _l("Organiser: runs the events they are a member of")),
    SelectChoice("steward", _l("Steward: checks people in at their events, nothing else")),
    SelectChoice("admin", _l("Admin: manages accounts and every event")),
]


def new_password(required: bool) -> PasswordField:
    from .organisers import PASSWORD_MAX, PASSWORD_MIN

    return PasswordField(
        _l("Password") if required else _l("New password (optional)"),
        description=_l(
            "%(min)d to %(max)d characters. Give it to the person in person, not by email.",
            min=PASSWORD_MIN,
            max=PASSWORD_MAX,
        ),
        validators=[
            DataRequired(_l("Set a password.")) if required else Optional(),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=_l(
                    "Passwords must be %(min)d to %(max)d characters long.",
                    min=PASSWORD_MIN,
                    max=PASSWORD_MAX,
                ),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class AccountForm(VigilForm):
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter an email address.")),
            Length(max=m.EMAIL_MAX),
            no_control_characters(),
            email_address,
        ],
        render_kw={"autocomplete": "off", "type": "email"},
    )
    display_name = StringField(
        _l("Name shown to other organisers"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give a name.")),
            Length(max=m.NAME_MAX),
            no_control_characters(),
        ],
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="organiser")
    password = new_password(required=True)


class AccountEditForm(VigilForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active: the account can log in"))
    events = SelectMultipleField(_l("Events"), coerce=int, validate_choice=False)
    password = new_password(required=False)


class CodeForm(VigilForm):
    code = StringField(
        _l("6-digit code from your authenticator app"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the code.")),
            Length(max=12),
            no_control_characters(),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autocapitalize": "none",
        },
    )
