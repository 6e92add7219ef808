"""The form every Vigil form builds on, and the fields and checks the forms share.

Forms check the shape of input: presence, length, format, range. Rules live in
domain code (event_rules, rsvps, volunteers).
"""

import re

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .. import languages

_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")

_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_PHONE = re.compile(r"[+0-9 ()\-.]{6,40}")
MAX_ID = 2**31 - 1  # ids beyond what the database's integer holds are simply unknown


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

        def get_translations(self, form):
            # Flask-WTF's own reads the catalogue from disk again for every form.
            return languages.form_messages()


class CsrfOnlyForm(VigilForm):
    """A button that only needs the CSRF token (cancel, restore, new calendar link)."""


def invalid_status(form) -> int:
    """400 for a missing or stale CSRF token, 422 for fields a person can correct."""
    return 400 if "csrf_token" in form.errors else 422


def strip(value):
    """A filter: surrounding spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


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


def phone_number(form, field):
    """Digits, spaces and the usual punctuation of a phone number."""
    if field.data and not _PHONE.fullmatch(field.data):
        raise ValidationError(_l("Please enter a phone number using digits, spaces and +."))


def known_ids(form, field):
    """Ids in a multiple choice that the database could hold; which exist is a rule."""
    if any(not 1 <= value <= MAX_ID for value in field.data or []):
        raise ValidationError(_l("Choose shifts from this event's list."))


class BoundedIntegerField(IntegerField):
    """An integer field that refuses absurdly long numbers before converting them
    (a 400-digit number would overflow the range check's float)."""

    def process_formdata(self, valuelist):
        if valuelist and len(valuelist[0].strip()) > 12:
            self.data = None
            raise ValueError(_l("Please enter a smaller number."))
        super().process_formdata(valuelist)


def limit_guests(field) -> None:
    """The most guests one person may bring comes from configuration, so it is set per request."""
    limit = current_app.config["VIGIL_MAX_GUESTS"]
    field.validators = [
        *field.validators,
        NumberRange(
            min=0,
            max=limit,
            message=_l("Guests must be between 0 and %(max)d.", max=limit),
        ),
    ]
    field.render_kw = {"min": 0, "max": limit, "inputmode": "numeric"}


def text_field(label, limit, required=None, multi_line=False, description=None, **kwargs):
    """A text field: trimmed, bounded, free of control characters; required if `required`
    (the message to show) is given."""
    kind = TextAreaField if multi_line else StringField
    first = DataRequired(required) if required else Optional()
    return kind(
        label,
        description=description,
        filters=[strip],
        validators=[first, Length(max=limit), no_control_characters(multi_line)],
        **kwargs,
    )


def local_time_field(label, required=None):
    """A wall-clock time at the event's place, as a browser's date-time picker sends it."""
    return DateTimeLocalField(
        label,
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(required)] if required else [Optional()],
    )
