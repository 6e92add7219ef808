"""The organisers' blueprint, and who may use which of its pages.

Every organiser view wears `organiser_view(need)`, which checks in one order:
logged in (else to the log-in page), two-step log-in on where it is required (else
to its set-up), the event named in the URL visible to the person (else 404: it does
not exist for them), then their role (else 403). The view receives the rows its URL
names (`event`, `role`, `shift`, `rsvp`, `account`) instead of their ids.
"""

import functools
from enum import StrEnum

from flask import Blueprint, abort, current_app, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ... import organisers, two_factor
from ...event_rules import is_slug
from ...events import RsvpCounts, rsvp_counts
from ...extensions import db, login_manager
from ...forms.base import CsrfOnlyForm
from ...models import Event, Organiser, OrganiserRole, Role, Rsvp, Shift

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


class Need(StrEnum):
    ANYONE = "anyone"  # the steps of logging in
    LOGIN = "login"  # any active account
    SEE = "see"  # the event exists for them: stewards check people in
    MANAGE = "manage"  # run the event: its organisers, and admins
    CREATE = "create"  # new events: organisers and admins
    ADMIN = "admin"  # accounts and the audit trail


@bp.context_processor
def workspace() -> dict:
    """Every organiser page carries the log-out button (with its CSRF token), and the
    header's numbers for the event it is about, counted only if the page names one."""
    return {
        "logout": CsrfOnlyForm(formdata=None),
        "event_numbers": event_numbers,
        "manages": current_user.is_authenticated and organisers.manages_events(current_user),
    }


def event_numbers(event: Event) -> RsvpCounts:
    """The event's RSVP numbers, counted once per request: the header and the page
    (the check-in tally) show the same ones."""
    known = g.setdefault("event_numbers", {})
    if event.id not in known:
        known[event.id] = rsvp_counts([event.id]).get(event.id, RsvpCounts())
    return known[event.id]


def _event_by_slug(slug: str) -> Event | None:
    if not is_slug(slug):
        return None
    return db.session.scalar(select(Event).where(Event.slug == slug))


def _found(row):
    if row is None:
        abort(404)
    return row


def _rows_named_in(kwargs: dict) -> dict:
    """The URL's slug and ids as rows, with the event each belongs to; 404 for unknown ids."""
    if "slug" in kwargs:
        kwargs["event"] = _event_by_slug(kwargs.pop("slug"))
    if "role_id" in kwargs:
        role = _found(db.session.get(Role, kwargs.pop("role_id")))
        kwargs.update(role=role, event=role.event)
    if "shift_id" in kwargs:
        shift = _found(db.session.get(Shift, kwargs.pop("shift_id")))
        kwargs.update(shift=shift, event=shift.role.event)
    if "rsvp_id" in kwargs:
        rsvp = _found(db.session.get(Rsvp, kwargs.pop("rsvp_id")))
        kwargs.update(rsvp=rsvp, event=rsvp.event)
    if "account_id" in kwargs:
        kwargs["account"] = _found(db.session.get(Organiser, kwargs.pop("account_id")))
    return kwargs


def _must_turn_on_two_step() -> bool:
    admins_must = current_app.config["VIGIL_ADMIN_TWO_FACTOR"]
    return two_factor.is_required(current_user, admins_must) and not two_factor.is_enabled(
        current_user
    )


def check_access(need: Need, kwargs: dict, before_two_step: bool = False):
    """None when the person may go on (with `kwargs` turned into rows), else the
    response that turns them away; aborts with 404 or 403."""
    if not current_user.is_authenticated:
        return None if need == Need.ANYONE else login_manager.unauthorized()
    if not before_two_step and _must_turn_on_two_step():
        flash(_("Admins must turn on two-step log-in before anything else."))
        return redirect(url_for("organiser.two_step"), code=303)
    if need == Need.ADMIN and current_user.role != OrganiserRole.ADMIN:
        abort(403)
    _rows_named_in(kwargs)
    if need in (Need.SEE, Need.MANAGE):
        event = kwargs["event"]
        if event is None or not organisers.can_see(current_user, event):
            abort(404)
    if need in (Need.MANAGE, Need.CREATE) and not organisers.manages_events(current_user):
        abort(403)
    return None


def organiser_view(need: Need, *, before_two_step: bool = False):
    """Decorate a view of the organisers' area with what it needs (see the module's
    docstring). `before_two_step` marks the pages an admin may use before turning
    two-step log-in on: its set-up, and logging out."""

    def decorate(view):
        @functools.wraps(view)
        def checked(**kwargs):
            refused = check_access(need, kwargs, before_two_step)
            return refused if refused is not None else view(**kwargs)

        checked.need = need
        return checked

    return decorate
