"""Organiser accounts: logging in with a password and a code, and admins managing accounts."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import models as m
from ..organisers import PASSWORD_MAX, PASSWORD_MIN
from .base import VigilForm, email_address, no_control_characters, strip


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


ROLE_CHOICES = [
    SelectChoice("organiser", _l("Organiser: runs the events they are a member of")),
    SelectChoice("steward", _l("Steward: checks people in at their events, nothing else")),
    SelectChoice("admin", _l("Admin: manages accounts and every event")),
]


def new_password(required: bool) -> PasswordField:
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
