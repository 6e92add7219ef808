"""Organisers changing RSVPs by hand: adding walk-ups, cancelling, moving one off the waitlist.

No name or address ever goes into a URL or a flashed message (the session cookie
is signed, not encrypted): pages name RSVPs by id only.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit, rsvps
from ..errors import VigilError
from ..extensions import db
from ..forms import CsrfOnlyForm, WalkUpForm, invalid_status
from ..models import Rsvp, RsvpStatus
from .organiser import allowed_event_or_abort, managed_event_or_abort

bp = Blueprint("organiser_rsvps", __name__, url_prefix="/organiser")


def _rsvp_or_abort(rsvp_id: int) -> Rsvp:
    rsvp = db.session.get(Rsvp, rsvp_id)
    if rsvp is None:
        abort(404)
    allowed_event_or_abort(rsvp.event)
    return rsvp


@bp.route("/events/<slug>/walk-up", methods=["GET", "POST"])
@login_required
def add_walk_up(slug: str):
    event = managed_event_or_abort(slug)
    form = WalkUpForm() if request.method == "POST" else WalkUpForm(formdata=None)
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = invalid_status(form)
        else:
            try:
                rsvp = rsvps.add_walk_up(
                    event,
                    email=form.email.data or None,
                    name=form.name.data,
                    guests=form.guests.data,
                    accessibility=form.accessibility.data,
                    check_in=bool(form.check_in.data),
                )
            except VigilError as exc:
                db.session.rollback()
                event = managed_event_or_abort(slug)
                error, status = exc.message, exc.status_code
            else:
                audit.record(current_user, "add rsvp", event, rows=1)
                db.session.commit()
                flash(_walk_up_message(rsvp))
                return redirect(url_for(".add_walk_up", slug=event.slug), code=303)
    return (
        render_template(
            "organiser/walk_up.html", event=event, form=form, error=error, logout=CsrfOnlyForm()
        ),
        status,
    )


def _walk_up_message(rsvp: Rsvp) -> str:
    if rsvp.status == RsvpStatus.WAITLISTED:
        return _("Added to the waitlist: there are not enough places left.")
    if rsvp.checked_in_at:
        return _("Added and checked in.")
    return _("Added with a place.")


@bp.route("/rsvps/<int(max=2147483647):rsvp_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_rsvp(rsvp_id: int):
    """GET asks (the person will be emailed); POST cancels and moves the waitlist up."""
    rsvp = _rsvp_or_abort(rsvp_id)
    event = rsvp.event
    error, status = None, 200
    if request.method == "POST":
        if not CsrfOnlyForm().validate_on_submit():
            abort(400)
        try:
            promoted = rsvps.cancel_rsvp(rsvp)
        except VigilError as exc:
            db.session.rollback()
            rsvp = _rsvp_or_abort(rsvp_id)
            error, status = exc.message, exc.status_code
        else:
            audit.record(current_user, "cancel rsvp", event, rows=1)
            db.session.commit()
            flash(
                _("RSVP cancelled; %(num)d moved up from the waitlist.", num=len(promoted))
                if promoted
                else _("RSVP cancelled.")
            )
            return redirect(url_for("organiser.attendee_list", slug=event.slug), code=303)
    return (
        render_template(
            "organiser/rsvp_cancel.html",
            event=rsvp.event,
            rsvp=rsvp,
            error=error,
            form=CsrfOnlyForm(formdata=None),
            logout=CsrfOnlyForm(),
        ),
        status,
    )


@bp.post("/rsvps/<int(max=2147483647):rsvp_id>/promote")
@login_required
def promote_rsvp(rsvp_id: int):
    """Out of turn, if it fits; a refusal says why on the attendee list."""
    rsvp = _rsvp_or_abort(rsvp_id)
    event = rsvp.event
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        rsvps.promote_rsvp(rsvp)
    except VigilError as exc:
        db.session.rollback()
        flash(str(exc.message))
    else:
        audit.record(current_user, "promote rsvp", event, rows=1)
        db.session.commit()
        flash(_("Moved off the waitlist: they have a place and are emailed."))
    return redirect(url_for("organiser.attendee_list", slug=event.slug), code=303)
