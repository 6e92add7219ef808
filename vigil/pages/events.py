"""Public event pages: the list of events and one event with its RSVP form."""

from flask import Blueprint, abort, render_template

from .. import volunteers
from ..events import (
    RSVP_WINDOW_MESSAGES,
    RsvpWindow,
    has_ended,
    is_live,
    list_public_events,
    places_left,
    public_event,
    rsvp_window,
)
from ..forms.people import RsvpForm
from ..models import Event
from ..public_state import event_state, listing_state
from .cached import cached_page

bp = Blueprint("events", __name__)


@bp.get("/")
def index():
    return cached_page(
        "home",
        "",
        listing_state,
        lambda: render_template("events/index.html", listing=list_public_events()),
    )


def render_event_page(event: Event, form: RsvpForm | None = None, error=None, status=200):
    """The event page, with the person's typing kept in `form` when it is re-shown."""
    window = rsvp_window(event)
    roles = volunteers.event_roles(event)
    return (
        render_template(
            "events/show.html",
            event=event,
            form=form or RsvpForm(formdata=None),
            error=error,
            rsvps_open=window == RsvpWindow.OPEN,
            closed_message=RSVP_WINDOW_MESSAGES.get(window),
            ended=has_ended(event),
            places_left=places_left(event),
            has_roles=bool(roles),
            roles_needed=volunteers.roles_needing_people(event, roles=roles),
            volunteering_open=is_live(event),
        ),
        status,
    )


def event_or_404(slug: str) -> Event:
    """Raises NotFound for unknown slugs and for drafts, which the public cannot see."""
    event = public_event(slug)
    if event is None:
        abort(404)
    return event


@bp.get("/events/<slug>")
def show(slug: str):
    """From the page cache; raises NotFound for unknown slugs and drafts."""
    return cached_page(
        "event",
        slug,
        lambda: event_state(slug),
        lambda: render_event_page(event_or_404(slug))[0],
    )
