"""The organisers' dashboard: the events a person may see, with their numbers."""

from flask import render_template
from flask_login import current_user

from ... import organisers, outbox, rosters
from ...events import RsvpCounts, rsvp_counts
from .access import Need, bp, organiser_view


@bp.get("/")
@organiser_view(Need.LOGIN)
def dashboard():
    events = organisers.visible_events(current_user)
    ids = [e.id for e in events]
    manages = organisers.manages_events(current_user)
    return render_template(
        "organiser/dashboard.html",
        events=events,
        counts=rsvp_counts(ids),
        empty=RsvpCounts(),
        gaps=rosters.open_places(ids),
        undeliverable=outbox.undeliverable_counts(ids),
        # every listed event is one the person may see: managing is then the role's
        manageable=set(ids) if manages else set(),
        can_create=manages,
    )
