"""Volunteer pages: the sign-up form, the confirmation, the private manage page and feed."""

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import people, volunteers
from ..database import read_first
from ..errors import VigilError
from ..event_calendar import shifts_file
from ..events import is_live
from ..extensions import db
from ..forms.base import CsrfOnlyForm, invalid_status
from ..forms.people import (
    AddShiftsForm,
    DropShiftForm,
    VolunteerDetailsForm,
    VolunteerForm,
    WithdrawForm,
)
from ..languages import current_code, locale_for
from ..links import external_url
from ..models import Event, VolunteerSignup, utcnow
from ..public_state import event_state
from ..throttling import address_is_quiet, form_limits
from .cached import cached_page
from .calendars import calendar_response, etag_of
from .events import event_or_404
from .private_pages import Action, private_page

bp = Blueprint("volunteers", __name__)
log = logging.getLogger(__name__)

_DONE = "volunteer_done"


def shift_rows(event: Event, exclude=()):
    """Every shift of the event with its places left and whether it can be chosen."""
    fill = volunteers.shift_fill(event)
    now = utcnow()
    excluded = {s.id for s in exclude}
    return [
        (
            role,
            [
                {
                    "shift": shift,
                    "left": max(shift.capacity - fill[shift.id], 0),
                    "open": shift.starts_at > now and fill[shift.id] < shift.capacity,
                }
                for shift in role.shifts
                if shift.id not in excluded
            ],
        )
        for role in volunteers.event_roles(event)
    ]


def render_signup(event: Event, form: VolunteerForm, error=None, status=200):
    return (
        render_template(
            "volunteers/signup.html",
            event=event,
            form=form,
            roles=shift_rows(event),
            open=is_live(event),
            error=error,
        ),
        status,
    )


@bp.get("/events/<slug>/volunteer")
def signup_page(slug: str):
    """From the page cache, with no rate-limit bookkeeping (limits count posts);
    raises NotFound for unknown or draft events."""
    return cached_page(
        "volunteer",
        slug,
        lambda: event_state(slug),
        lambda: render_signup(event_or_404(slug), VolunteerForm(formdata=None))[0],
    )


@bp.post("/events/<slug>/volunteer")
@form_limits("VIGIL_FORM_LIMIT_PER_CLIENT")
@read_first
def signup(slug: str):
    """Raises NotFound for unknown or draft events."""
    event = event_or_404(slug)
    form = VolunteerForm()
    if not form.validate_on_submit():
        if "csrf_token" not in form.errors and "shifts" not in form.errors:
            for problem in volunteers.choice_problems(event, form.shifts.data, form.phone.data):
                field = getattr(form, problem.field)
                field.errors = [*field.errors, problem.message]
        return render_signup(event, form, status=invalid_status(form))
    if form.is_from_a_script():
        log.info("honeypot filled on volunteer form event=%s", event.id)
        session[_DONE] = event.slug
        return redirect(url_for("volunteers.done", slug=event.slug), code=303)
    if form.needs_mailbox_warning():
        return render_signup(event, form)
    try:
        volunteers.sign_up(
            event,
            email=form.email.data,
            quiet=address_is_quiet(form.email.data),
            shift_ids=form.shifts.data,
            name=form.name.data,
            phone=form.phone.data,
            languages=form.languages.data,
            notes=form.notes.data,
            language=current_code(),
        )
    except volunteers.ShiftProblem as exc:
        db.session.rollback()
        getattr(form, exc.field).errors = [exc.message]
        return render_signup(event_or_404(slug), form, status=exc.status_code)
    except VigilError as exc:
        db.session.rollback()
        return render_signup(event_or_404(slug), form, error=exc.message, status=exc.status_code)
    db.session.commit()
    session[_DONE] = slug  # the event is not read again after the commit
    return redirect(url_for("volunteers.done", slug=slug), code=303)


@bp.get("/events/<slug>/volunteer/done")
def done(slug: str):
    event = event_or_404(slug)
    if session.get(_DONE) != event.slug:
        return redirect(url_for("volunteers.signup", slug=event.slug))
    return render_template(
        "volunteers/done.html", event=event, confirm_hours=current_app.config["VIGIL_CONFIRM_HOURS"]
    )


def render_manage(
    signup: VolunteerSignup,
    token: str,
    *,
    add=None,
    details=None,
    withdraw=None,
    error=None,
    feed_url=None,
    status=200,
):
    event = signup.event
    mine = volunteers.current_shifts(signup)
    page = render_template(
        "volunteers/manage.html",
        signup=signup,
        event=event,
        token=token,
        mine=mine,
        roles=shift_rows(event, exclude=mine),
        add=add or AddShiftsForm(formdata=None),
        details=details or VolunteerDetailsForm(formdata=None, obj=signup),
        drop=DropShiftForm(formdata=None),
        button=CsrfOnlyForm(formdata=None),
        withdraw=withdraw or WithdrawForm(formdata=None),
        open=is_live(event),
        feed_url=feed_url,
        error=error,
    )
    return page, status


def _confirmed(signup: VolunteerSignup, token: str, missed: list[str]):
    if not missed:
        flash(_("Thank you: you are signed up, and the shifts are yours."))
    elif signup.assignments:
        flash(
            _(
                "Thank you: you are signed up. These shifts filled up before you confirmed: "
                "%(shifts)s.",
                shifts="; ".join(missed),
            )
        )
    else:
        flash(
            _(
                "The shifts you chose filled up before you confirmed: %(shifts)s. "
                "Choose others below.",
                shifts="; ".join(missed),
            )
        )
    return redirect(url_for("volunteers.manage", token=token), code=303)


def _new_feed_token(signup: VolunteerSignup) -> str:
    volunteers.ensure_confirmed(signup)
    return people.rotate_feed_token(signup)


def _show_feed_address(signup: VolunteerSignup, token: str, feed_token: str):
    """Shown once, on this page only: the database keeps just the token's hash."""
    url = external_url("volunteers.shifts_feed", token=feed_token)
    return render_manage(signup, token, feed_url=url)


ACTIONS = {
    "confirm": Action(
        CsrfOnlyForm,
        lambda signup, form: volunteers.confirm_signup(signup),
        respond=_confirmed,
    ),
    "add": Action(
        AddShiftsForm,
        lambda signup, form: volunteers.add_shifts(signup, form.shifts.data, phone=form.phone.data),
        lambda signup: _("Your new shifts are booked. We have emailed you the details."),
        slot="add",
    ),
    "details": Action(
        VolunteerDetailsForm,
        lambda signup, form: volunteers.update_details(signup, **form.details()),
        lambda signup: _("Your details have been saved."),
        slot="details",
    ),
    "drop": Action(
        DropShiftForm,
        lambda signup, form: volunteers.drop_shift(signup, form.shift.data),
        lambda signup: _("The shift has been dropped and its place freed."),
    ),
    "feed": Action(
        CsrfOnlyForm,
        lambda signup, form: _new_feed_token(signup),
        respond=_show_feed_address,
    ),
    "withdraw": Action(
        WithdrawForm,
        lambda signup, form: volunteers.withdraw(signup),
        lambda signup: _("You have withdrawn, and everything you gave us has been erased."),
        slot="withdraw",
        erases=True,
    ),
}


@bp.route("/volunteer/<token>", methods=["GET", "POST"])
def manage(token: str):
    """See, add and drop shifts, get a calendar link, or withdraw. NotFound for bad tokens."""
    return private_page(VolunteerSignup, token, ACTIONS, render_manage, "volunteers.manage")


@bp.get("/volunteer/<token>/shifts.ics")
def shifts_feed(token: str):
    """A volunteer's own shifts as a subscribable calendar. NotFound for unknown tokens."""
    signup = people.find_by_feed_token(token)
    if signup is None:
        abort(404)
    # Tagged by its bytes: a role renamed or a meeting point moved is a new file too.
    # In the person's language: a calendar app sends no cookie to choose one.
    with force_locale(locale_for(signup.language)):
        body = shifts_file(signup)
    return calendar_response(etag_of(body), None, lambda: body, personal=True)
