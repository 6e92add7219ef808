"""The forms a person fills in about themselves: an RSVP, a volunteer sign-up, and
changing, cancelling or erasing them through their private link."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import models as m
from ..privacy import is_watched_mailbox
from .base import (
    MAX_ID,
    BoundedIntegerField,
    VigilForm,
    email_address,
    known_ids,
    limit_guests,
    no_control_characters,
    phone_number,
    strip,
)


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
        limit_guests(self.guests)

    def details(self) -> dict:
        return {
            "name": self.name.data or None,
            "guests": self.guests.data,
            "accessibility": self.accessibility.data or None,
            "wants_updates": bool(self.wants_updates.data),
        }


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


class EraseRsvpForm(VigilForm):
    confirm = BooleanField(
        _l("I understand this deletes my RSVP and cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm that you want to erase your RSVP."))],
    )


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


class VolunteerDetailsMixin:
    """What a volunteer tells the coordinator, at sign-up and on their private page."""

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


class VolunteerForm(ConsentMixin, ShiftChoiceMixin, VolunteerDetailsMixin, VigilForm):
    email = email_field(_l("For your confirmation, your shifts and a private link to change them."))


class VolunteerDetailsForm(VolunteerDetailsMixin, VigilForm):
    """On the private page beside the add-shifts form: its fields are named
    details-…, so the two phone fields keep ids of their own."""

    phone = ShiftChoiceMixin.phone

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "details")
        super().__init__(*args, **kwargs)

    def details(self) -> dict:
        return {
            "name": self.name.data,
            "languages": self.languages.data,
            "phone": self.phone.data,
            "notes": self.notes.data,
        }


class AddShiftsForm(ShiftChoiceMixin, VigilForm):
    pass


class DropShiftForm(VigilForm):
    shift = BoundedIntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class WithdrawForm(VigilForm):
    confirm = BooleanField(
        _l("I understand this deletes my sign-up and cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm that you want to withdraw."))],
    )
