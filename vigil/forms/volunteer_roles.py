"""The organisers' forms for volunteer roles and their shifts."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import models as m
from .base import BoundedIntegerField, VigilForm, no_control_characters, strip


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
