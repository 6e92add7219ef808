"""Checking people in at the spot: find by code, name or address, check in or undo."""

from flask import abort, render_template, request
from flask_login import current_user

from ... import attendees, audit
from ...extensions import db
from ...forms.attendees import CheckInForm
from ...forms.base import invalid_status
from ...models import Event, Rsvp, utcnow
from .access import Need, bp, organiser_view


@bp.route("/events/<slug>/check-in", methods=["GET", "POST"])
@organiser_view(Need.SEE)
def check_in(event: Event):
    """One-handed, for stewards, organisers and admins of the event. Sent by POST, so
    nothing typed reaches a URL; an RSVP of another event is a 404."""
    form = CheckInForm() if request.method == "POST" else CheckInForm(formdata=None)
    found, status, arrived = [], 200, None
    if request.method == "POST":
        if not form.validate_on_submit():
            status = invalid_status(form)
        else:
            action = request.form.get("action", "search")
            if action in ("in", "undo") and form.rsvp.data:
                rsvp = db.session.get(Rsvp, form.rsvp.data)
                if rsvp is None or rsvp.event_id != event.id:
                    abort(404)
                try:
                    attendees.set_checked_in(rsvp, action == "in")
                except ValueError:
                    abort(409)
                audit.record(
                    current_user, "check in" if action == "in" else "undo check-in", event, rows=1
                )
                arrived = rsvp if action == "in" else None
            found = attendees.find_for_check_in(event, form.q.data or "")
            if form.q.data:
                audit.record(current_user, "check-in search", event, rows=len(found))
            db.session.commit()
    return render_template(
        "organiser/check_in.html",
        event=event,
        form=form,
        found=found,
        arrived=arrived,
    ), status


@bp.get("/events/<slug>/check-in/sheet")
@organiser_view(Need.MANAGE)
def check_in_sheet(event: Event):
    """The whole list, to print before the day: for organisers only, since a steward's
    search finds one person at a time. Audit-logged like the attendee list."""
    people = attendees.check_in_sheet(event)
    audit.record(current_user, "print check-in list", event, rows=len(people))
    db.session.commit()
    return render_template(
        "organiser/check_in_sheet.html",
        event=event,
        people=people,
        printed_at=utcnow(),
    )
