"""The organisers' event form, and the tick that confirms a change which emails people."""

import math

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FloatField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from .. import models as m
from ..event_rules import CAPACITY_MAX, RETENTION_DAYS_MAX
from ..event_text import clean_translations
from ..languages import TRANSLATED
from ..local_time import iana_zones
from .base import (
    BoundedIntegerField,
    VigilForm,
    local_time_field,
    no_control_characters,
    strip,
    text_field,
)


def known_zone(form, field):
    """One of the zones the form lists."""
    if field.data not in iana_zones():
        raise ValidationError(_l("Choose a time zone from the list."))


def finite(form, field):
    """`nan` and `inf` are floats too; no map has room for them."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Please enter a number."))


def demand_lines(form, field):
    """Up to 20 demands, one per line, each fitting its column."""
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    if len(lines) > 20:
        raise ValidationError(_l("Up to 20 demands, one per line."))
    if any(len(line) > m.DEMAND_MAX for line in lines):
        raise ValidationError(_l("Each demand can be up to %(max)d characters.", max=m.DEMAND_MAX))


class EventForm(VigilForm):
    """Everything about an event but its status, which has actions of its own."""

    title = text_field(_l("Title"), m.TITLE_MAX, _l("Give the event a title."))
    slug = text_field(
        _l("Web address"),
        m.SLUG_MAX,
        _l("Give the event a web address."),
        description=_l("The end of the event's link: lower-case letters, digits and hyphens."),
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    summary = text_field(_l("One-line summary"), m.SUMMARY_MAX)
    description = text_field(
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
    venue = text_field(_l("Place"), m.VENUE_MAX, _l("Say where people gather."))
    street_address = text_field(_l("Street address"), m.ADDRESS_MAX, _l("Give the street address."))
    locality = text_field(_l("Town or city"), m.LOCALITY_MAX, _l("Give the town or city."))
    postcode = text_field(_l("Postcode"), m.POSTCODE_MAX, _l("Give the postcode."))
    transport = text_field(_l("Getting there"), m.TRANSPORT_MAX)
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
    starts = local_time_field(_l("Starts"), _l("Give a start time."))
    ends = local_time_field(_l("Ends"), _l("Give an end time."))
    capacity = BoundedIntegerField(
        _l("Places (optional)"),
        description=_l("Leave empty for no limit; guests count too."),
        validators=[
            Optional(),
            NumberRange(0, CAPACITY_MAX, _l("Places must be a whole number, 0 or more.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    rsvp_opens = local_time_field(_l("RSVPs open (optional)"))
    rsvp_closes = local_time_field(_l("RSVPs close (optional)"))
    shifts_follow = SelectField(
        _l("If the start time changes, the volunteer shifts"),
        description=_l("Volunteers are emailed their shifts as they are after the change."),
        choices=[
            SelectChoice("move", _l("Move with the event (by as much as its start)")),
            SelectChoice("keep", _l("Stay at their times")),
        ],
        default="move",
    )
    discreet_subjects = BooleanField(
        _l("Discreet email subjects"),
        description=_l(
            "Subjects name the date instead of the event's title (“You have a place: your "
            "event on Sun 10 Dec 2028”), since a phone's lock screen is seen by others."
        ),
    )
    confirm_by_email = SelectField(
        _l("Who confirms their RSVP by email"),
        description=_l(
            "Where places are limited, an RSVP takes a place only when the person "
            "confirms from their email, so nobody can take or test places with someone "
            "else's address. Unconfirmed RSVPs are erased after a day."
        ),
        choices=[
            SelectChoice("", _l("Everyone, where places are limited")),
            SelectChoice("yes", _l("Everyone, even without a limit")),
        ],
        default="",
    )
    retention_days = BoundedIntegerField(
        _l("Delete attendees' details this many days after the event (optional)"),
        description=_l("Leave empty for the usual period. Only the numbers are kept."),
        validators=[
            Optional(),
            NumberRange(0, RETENTION_DAYS_MAX, _l("Give a number of days from 0 to 3650.")),
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
        confirm = "yes" if values.get("confirm_by_email") else ""
        return cls(
            formdata=None,
            data={
                **values,
                **translation_data(values.get("translations")),
                "demands": "\n".join(values["demands"]),
                "confirm_by_email": confirm,
            },
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
            "confirm_by_email": True if self.confirm_by_email.data == "yes" else None,
            "discreet_subjects": bool(self.discreet_subjects.data),
            "translations": translations_of(self),
        }


# The event's words in other languages: optional fields named "title_zh_Hans" and so
# on, with the limits of the event's own (event_text.TEXT_FIELDS).
TRANSLATION_FIELDS = {
    "title": lambda: text_field(_l("Title"), m.TITLE_MAX),
    "summary": lambda: text_field(_l("One-line summary"), m.SUMMARY_MAX),
    "description": lambda: text_field(
        _l("Description"), m.DESCRIPTION_MAX, multi_line=True, render_kw={"rows": 8}
    ),
    "demands": lambda: TextAreaField(
        _l("Demands"),
        description=_l("One per line."),
        filters=[strip],
        validators=[Optional(), no_control_characters(True), demand_lines],
        render_kw={"rows": 4},
    ),
    "venue": lambda: text_field(_l("Place"), m.VENUE_MAX),
    "transport": lambda: text_field(_l("Getting there"), m.TRANSPORT_MAX),
}
for _code in TRANSLATED:
    for _name, _make in TRANSLATION_FIELDS.items():
        setattr(EventForm, f"{_name}_{_code}", _make())


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def translations_of(form: EventForm) -> dict | None:
    """{"zh_Hans": {"title": ...}} from the form; blanks are left out by
    clean_translations, as for event files."""
    return clean_translations(
        {
            code: {
                name: _lines(form[f"{name}_{code}"].data)
                if name == "demands"
                else form[f"{name}_{code}"].data
                for name in TRANSLATION_FIELDS
            }
            for code in TRANSLATED
        }
    )


def translation_data(translations: dict | None) -> dict:
    """The form's flat fields from stored translations."""
    data = {}
    for code, fields in (translations or {}).items():
        for name, value in fields.items():
            data[f"{name}_{code}"] = "\n".join(value) if name == "demands" else value
    return data


class NotifyConfirmForm(VigilForm):
    confirm = BooleanField(
        _l("Yes, go ahead and email them"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
