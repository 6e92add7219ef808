"""RSVP pages: the form's target, the confirmation page, and the private manage page."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from .. import rsvps
from ..database import flush_deleted_data
from ..dates import format_span
from ..errors import NotEnoughPlaces, RsvpGone, VigilError
from ..events import RsvpWindow, needs_email_confirmation, places_left, rsvp_window
from ..extensions import db
from ..forms.base import CsrfOnlyForm, invalid_status
from ..forms.people import EraseRsvpForm, ManageRsvpForm, RsvpForm
from ..models import Rsvp, RsvpStatus
from ..throttling import even_timing, form_limits
from .events import event_or_404, render_event_page

bp = Blueprint("rsvps", __name__)
log = logging.getLogger(__name__)

_OUTCOME = "rsvp_outcome"


@bp.post("/events/<slug>/rsvp")
@form_limits("VIGIL_FORM_LIMIT_PER_CLIENT", "VIGIL_FORM_LIMIT_PER_ADDRESS")
@even_timing
def create(slug: str):
    """Raises NotFound for an unknown or draft event; 429 past the rate limits."""
    event = event_or_404(slug)
    form = RsvpForm()
    if not form.validate_on_submit():
        return render_event_page(event, form, status=invalid_status(form))
    if form.is_from_a_script():
        # Answered like any RSVP, so the script learns nothing; nothing is kept.
        log.info("honeypot filled on rsvp form event=%s", event.id)
        status = rsvps.status_for_new(event, form.guests.data)
    else:
        if form.needs_mailbox_warning():
            return render_event_page(event, form)
        try:
            result = rsvps.create_rsvp(event, email=form.email.data, **form.details())
        except VigilError as exc:
            return render_event_page(event, form, error=exc.message, status=exc.status_code)
        db.session.commit()
        status = result.status
    # Only the outcome goes into the session: never the link, never the address.
    session[_OUTCOME] = {"slug": event.slug, "status": status}
    return redirect(url_for("rsvps.done", slug=event.slug), code=303)


@bp.get("/events/<slug>/rsvp/done")
def done(slug: str):
    event = event_or_404(slug)
    outcome = session.get(_OUTCOME)
    if not outcome or outcome.get("slug") != event.slug:
        return redirect(url_for("events.show", slug=event.slug))
    return render_template(
        "rsvps/done.html",
        event=event,
        waitlisted=outcome.get("status") == RsvpStatus.WAITLISTED,
        confirm_hours=current_app.config["VIGIL_CONFIRM_HOURS"]
        if needs_email_confirmation(event)
        else None,
    )


def rsvp_or_404(token: str) -> Rsvp:
    """Unknown, malformed and erased tokens all look the same: not found."""
    rsvp = rsvps.find_rsvp(token)
    if rsvp is None:
        abort(404)
    return rsvp


def render_manage(rsvp: Rsvp, token: str, details=None, erase=None, error=None, status=200):
    event = rsvp.event
    if details is None:
        details = ManageRsvpForm(formdata=None, obj=rsvp)
    response = render_template(
        "rsvps/manage.html",
        rsvp=rsvp,
        event=event,
        token=token,
        when=format_span(event.starts_at, event.ends_at, event.timezone),
        details=details,
        action_form=CsrfOnlyForm(formdata=None),
        erase=erase or EraseRsvpForm(formdata=None),
        can_change=rsvps.can_change(rsvp),
        can_restore=rsvps.can_change(rsvp) and rsvp_window(event) == RsvpWindow.OPEN,
        places_left=places_left(event),
        error=error,
    )
    return response, status


def _restored_message(rsvp: Rsvp) -> str:
    if rsvp.status == RsvpStatus.CONFIRMED:
        return _("Your RSVP is back on: you have a place.")
    return _("There was no free place, so you are back on the waitlist.")


@dataclass(frozen=True)
class ManageAction:
    """One button on the manage page: its form, the domain call, what the person is told."""

    form: type
    run: Callable[[Rsvp, object], object]
    done: Callable[[Rsvp], str]
    slot: str | None  # which form on the page shows this form's errors


ACTIONS = {
    "confirm": ManageAction(
        CsrfOnlyForm,
        lambda rsvp, form: rsvps.confirm_rsvp(rsvp),
        lambda rsvp: _("Thank you: your RSVP is confirmed."),
        None,
    ),
    "update": ManageAction(
        ManageRsvpForm,
        lambda rsvp, form: rsvps.update_rsvp(rsvp, **form.details()),
        lambda rsvp: _("Your RSVP has been updated."),
        "details",
    ),
    "cancel": ManageAction(
        CsrfOnlyForm,
        lambda rsvp, form: rsvps.cancel_rsvp(rsvp),
        lambda rsvp: _("Your RSVP has been cancelled. You can undo this below."),
        None,
    ),
    "restore": ManageAction(
        CsrfOnlyForm, lambda rsvp, form: rsvps.restore_rsvp(rsvp), _restored_message, None
    ),
    "erase": ManageAction(
        EraseRsvpForm,
        lambda rsvp, form: rsvps.erase_rsvp(rsvp),
        lambda rsvp: _("Your RSVP and everything you gave us with it have been erased."),
        "erase",
    ),
}


@bp.route("/rsvp/<token>", methods=["GET", "POST"])
def manage(token: str):
    """See, change, cancel, restore or erase an RSVP.

    Raises NotFound for unknown tokens and BadRequest for an unknown action.
    """
    rsvp = rsvp_or_404(token)
    if request.method == "GET":
        return render_manage(rsvp, token)

    action = ACTIONS.get(request.form.get("action", ""))
    if action is None:
        abort(400)
    form = action.form()
    forms = {action.slot: form} if action.slot else {}
    if not form.validate_on_submit():
        return render_manage(rsvp, token, **forms, status=invalid_status(form))
    slug = rsvp.event.slug
    try:
        action.run(rsvp, form)
    except RsvpGone:
        db.session.rollback()
        abort(404)
    except VigilError as exc:
        db.session.rollback()
        rsvp = rsvp_or_404(token)
        if isinstance(exc, NotEnoughPlaces) and action.slot == "details":
            form.guests.errors = [exc.message]
            return render_manage(rsvp, token, **forms, status=exc.status_code)
        return render_manage(rsvp, token, **forms, error=exc.message, status=exc.status_code)
    db.session.commit()
    flash(action.done(rsvp))
    if action.form is EraseRsvpForm:
        flush_deleted_data()
        return redirect(url_for("events.show", slug=slug), code=303)
    return redirect(url_for("rsvps.manage", token=token), code=303)
