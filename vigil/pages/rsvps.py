"""RSVP pages: the form's target, the confirmation page, and the private manage page."""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from .. import people, rsvps
from ..database import read_first
from ..dates import format_span
from ..errors import VigilError
from ..events import RsvpWindow, places_left, rsvp_window
from ..extensions import db
from ..forms.base import CsrfOnlyForm, invalid_status
from ..forms.people import EraseRsvpForm, ManageRsvpForm, RsvpForm
from ..languages import current_code
from ..models import Rsvp, RsvpStatus
from ..throttling import address_is_quiet, form_limits
from .events import event_or_404, render_event_page
from .private_pages import Action, private_page

bp = Blueprint("rsvps", __name__)
log = logging.getLogger(__name__)

_OUTCOME = "rsvp_outcome"


@bp.post("/events/<slug>/rsvp")
@form_limits("VIGIL_FORM_LIMIT_PER_CLIENT")
@read_first
def create(slug: str):
    """Raises NotFound for an unknown or draft event; 429 past the client's rate limit."""
    event = event_or_404(slug)
    form = RsvpForm()
    if not form.validate_on_submit():
        return render_event_page(event, form, status=invalid_status(form))
    if form.is_from_a_script():
        # Answered like any RSVP, so the script learns nothing; nothing is kept.
        log.info("honeypot filled on rsvp form event=%s", event.id)
        status = rsvps.status_for_new(event)
    else:
        if form.needs_mailbox_warning():
            return render_event_page(event, form)
        try:
            quiet = address_is_quiet(form.email.data)
            result = rsvps.create_rsvp(
                event,
                email=form.email.data,
                quiet=quiet,
                language=current_code(),
                **form.details(),
            )
        except VigilError as exc:
            return render_event_page(event, form, error=exc.message, status=exc.status_code)
        db.session.commit()
        status = result.status
    # Only the outcome goes into the session: never the link, never the address. The
    # slug is the address's own (the event is not read again after the commit).
    session[_OUTCOME] = {"slug": slug, "status": status}
    return redirect(url_for("rsvps.done", slug=slug), code=303)


@bp.get("/events/<slug>/rsvp/done")
def done(slug: str):
    event = event_or_404(slug)
    outcome = session.get(_OUTCOME)
    if not outcome or outcome.get("slug") != event.slug:
        return redirect(url_for("events.show", slug=event.slug))
    return render_template(
        "rsvps/done.html",
        event=event,
        pending=outcome.get("status") == RsvpStatus.PENDING,
        confirm_hours=current_app.config["VIGIL_CONFIRM_HOURS"],
    )


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


def _confirmed_message(rsvp: Rsvp) -> str:
    if rsvp.status == RsvpStatus.WAITLISTED:
        return _(
            "Thank you: your RSVP is confirmed. The event is full, so you are on the waitlist."
        )
    return _("Thank you: your RSVP is confirmed, and you have a place.")


def _restored_message(rsvp: Rsvp) -> str:
    if rsvp.status == RsvpStatus.CONFIRMED:
        return _("Your RSVP is back on: you have a place.")
    return _("There was no free place, so you are back on the waitlist.")


ACTIONS = {
    "confirm": Action(
        CsrfOnlyForm,
        lambda rsvp, form: rsvps.confirm_rsvp(rsvp),
        _confirmed_message,
    ),
    "update": Action(
        ManageRsvpForm,
        lambda rsvp, form: rsvps.update_rsvp(rsvp, **form.details()),
        lambda rsvp: _("Your RSVP has been updated."),
        slot="details",
    ),
    "cancel": Action(
        CsrfOnlyForm,
        lambda rsvp, form: rsvps.cancel_rsvp(rsvp),
        lambda rsvp: _("Your RSVP has been cancelled. You can undo this below."),
    ),
    "restore": Action(CsrfOnlyForm, lambda rsvp, form: rsvps.restore_rsvp(rsvp), _restored_message),
    "erase": Action(
        EraseRsvpForm,
        lambda rsvp, form: rsvps.erase_rsvp(rsvp),
        lambda rsvp: _("Your RSVP and everything you gave us with it have been erased."),
        slot="erase",
        erases=True,
    ),
}


@bp.route("/rsvp/<token>", methods=["GET", "POST"])
def manage(token: str):
    """See, change, cancel, restore or erase an RSVP.

    Raises NotFound for unknown tokens and BadRequest for an unknown action.
    """
    return private_page(Rsvp, token, ACTIONS, render_manage, "rsvps.manage")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """Stop optional messages: a page with a button, or RFC 8058's one-click POST from
    a mail provider, which carries no form token (the signed link is the proof, and it
    can do nothing but this). NotFound for a bad or erased link."""
    rsvp = people.find_by_unsubscribe_token(token)
    if rsvp is None:
        abort(404)
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not one_click and not CsrfOnlyForm().validate_on_submit():
            abort(400)
        rsvps.stop_updates(rsvp)
        db.session.commit()
        if one_click:
            return "", 204
        return redirect(url_for("rsvps.unsubscribe", token=token), code=303)
    return render_template(
        "rsvps/unsubscribe.html",
        event=rsvp.event,
        stopped=not rsvp.wants_updates,
        form=CsrfOnlyForm(formdata=None),
        token=token,
    )
