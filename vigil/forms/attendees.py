"""The organisers' forms about attendees: finding them, checking them in, adding a
walk-up, and writing to them."""

import hashlib

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import models as m
from ..languages import TRANSLATED
from .base import (
    MAX_ID,
    BoundedIntegerField,
    VigilForm,
    email_address,
    limit_guests,
    no_control_characters,
    strip,
    text_field,
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
            SelectChoice("pending", _l("Not confirmed yet")),
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
    """Search by code, or a name or address in full; sent by POST so nothing typed
    reaches a URL."""

    q = StringField(
        _l("Check-in code, or full name or email"),
        description=_l(
            "The 6-character code from their phone or printout, or their name or email "
            "address exactly as they gave it."
        ),
        filters=[strip],
        validators=[Optional(), Length(max=m.EMAIL_MAX), no_control_characters()],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    rsvp = BoundedIntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


class WalkUpForm(VigilForm):
    """An organiser adding someone by hand; only what the day needs, nothing required."""

    name = text_field(
        _l("Name (optional)"), m.NAME_MAX, description=_l("A first name or a nickname.")
    )
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
    accessibility = text_field(_l("Access needs (optional)"), m.ACCESSIBILITY_MAX, multi_line=True)
    check_in = BooleanField(_l("They are here now: check them in"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_guests(self.guests)


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
    # The digest of what was previewed: a message changed since is previewed again.
    previewed = HiddenField(validators=[Length(max=64)])
    confirm = BooleanField(_l("Send it now"))

    def validate(self, extra_validators=None) -> bool:
        """A translation needs both its subject and its text, or neither."""
        valid = super().validate(extra_validators)
        for code in TRANSLATED:
            subject, body = self[f"subject_{code}"], self[f"body_{code}"]
            if bool(subject.data) != bool(body.data):
                missing = body if subject.data else subject
                missing.errors = [
                    *missing.errors,
                    _l("Give both a subject and a text in this language, or neither."),
                ]
                valid = False
        return valid

    def translations(self) -> dict[str, tuple[str, str]]:
        """{"zh_Hans": (subject, text)} for the languages given."""
        return {
            code: (self[f"subject_{code}"].data, self[f"body_{code}"].data)
            for code in TRANSLATED
            if self[f"subject_{code}"].data and self[f"body_{code}"].data
        }

    def digest(self) -> str:
        """What the preview showed: audience, subjects and texts."""
        parts = [self.audience.data, self.subject.data or "", self.body.data or ""]
        for code in TRANSLATED:
            parts += [self[f"subject_{code}"].data or "", self[f"body_{code}"].data or ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# The same message for readers of Chinese, each optional: without one, they get the
# text above. Fields "subject_zh_Hans", "body_zh_Hans" and so on.
_IN_LANGUAGE = {  # one entry per languages.TRANSLATED
    "zh_Hans": (_l("Subject in Simplified Chinese"), _l("Message in Simplified Chinese")),
    "zh_Hant": (_l("Subject in Traditional Chinese"), _l("Message in Traditional Chinese")),
}
for _code, (_subject, _body) in _IN_LANGUAGE.items():
    setattr(
        MessageForm,
        f"subject_{_code}",
        StringField(
            _subject,
            filters=[strip],
            validators=[Optional(), Length(max=200), no_control_characters()],
        ),
    )
    setattr(
        MessageForm,
        f"body_{_code}",
        TextAreaField(
            _body,
            filters=[strip],
            validators=[Optional(), Length(max=5000), no_control_characters(True)],
        ),
    )
