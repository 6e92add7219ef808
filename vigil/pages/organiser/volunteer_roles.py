"""Volunteer roles and their shifts: adding, editing and removing them.

Removing a role or a shift that people are on asks first, saying how many will be
emailed; a change of time or meeting point emails the people on the shift.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import audit, shift_editing, volunteers
from ...event_rules import SHIFT_TIMES, stored_times
from ...extensions import db
from ...forms.base import CsrfOnlyForm
from ...forms.volunteer_roles import ConfirmForm, RoleForm, ShiftForm
from ...local_time import to_local
from ...models import Event, Role, Shift
from .access import Need, bp, organiser_view
from .changes import emailed_notice, organiser_change


def _shift_values(form: ShiftForm, event: Event) -> dict | None:
    """Local times typed by the organiser, stored in UTC; None, with the problem beside
    its field, for a time the clocks skip."""
    typed = {"starts": form.starts.data, "ends": form.ends.data}
    times, problems = stored_times(typed, event.zone, SHIFT_TIMES)
    for problem in problems:
        getattr(form, problem.field).errors = [problem.message]
    if problems:
        return None
    return {
        **times,
        "capacity": form.capacity.data,
        "meeting_point": form.meeting_point.data or "",
        "note": form.note.data or None,
    }


def _render_roles(event: Event, role_form=None, shift_forms=None, status=200):
    return render_template(
        "organiser/roles.html",
        event=event,
        roles=volunteers.event_roles(event),
        fill=volunteers.shift_fill(event),
        role_form=role_form or RoleForm(formdata=None),
        shift_forms=shift_forms or {},
        empty_shift=ShiftForm(formdata=None),
    ), status


@bp.route("/events/<slug>/roles", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def roles(event: Event):
    """Roles and shifts of an event; POST adds a role."""
    if request.method == "GET":
        return _render_roles(event)
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_roles(event, role_form=form, status=422)
    shift_editing.add_role(event, **form.values())
    audit.record(current_user, "add role", event)
    db.session.commit()
    flash(_("Role added."))
    return redirect(url_for("organiser.roles", slug=event.slug), code=303)


@bp.route("/roles/<int(max=2147483647):role_id>/edit", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def edit_role(role: Role, event: Event):
    form = RoleForm(obj=role) if request.method == "GET" else RoleForm()
    if request.method == "POST" and form.validate_on_submit():
        shift_editing.update_role(role, **form.values())
        audit.record(current_user, "edit role", event)
        db.session.commit()
        flash(_("Role saved."))
        return redirect(url_for("organiser.roles", slug=event.slug), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("organiser/role_edit.html", event=event, role=role, form=form), status


@bp.post("/roles/<int(max=2147483647):role_id>/shifts")
@organiser_view(Need.MANAGE)
def add_shift(role: Role, event: Event):
    form = ShiftForm()
    values = _shift_values(form, event) if form.validate_on_submit() else None
    if values is not None:
        with organiser_change(volunteers.ShiftProblem) as change:
            shift_editing.add_shift(role, **values)
            change.audit("add shift", event)
        if change.refusal:
            getattr(form, change.refusal.field).errors = [change.refusal.message]
        else:
            flash(_("Shift added."))
            return redirect(url_for("organiser.roles", slug=event.slug), code=303)
    return _render_roles(event, shift_forms={role.id: form}, status=422)


@bp.route("/shifts/<int(max=2147483647):shift_id>/edit", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def edit_shift(shift: Shift, event: Event):
    if request.method == "GET":
        form = ShiftForm(
            formdata=None,
            starts=to_local(shift.starts_at, event.zone),
            ends=to_local(shift.ends_at, event.zone),
            capacity=shift.capacity,
            meeting_point=shift.meeting_point,
            note=shift.note,
        )
        return render_template("organiser/shift_edit.html", event=event, shift=shift, form=form)
    form = ShiftForm()
    values = _shift_values(form, event) if form.validate_on_submit() else None
    if values is not None:
        shift_id = shift.id
        with organiser_change(volunteers.ShiftProblem) as change:
            told = shift_editing.update_shift(shift, **values)
            change.audit("edit shift", event, rows=told or None)
        if change.refusal:  # the shift is read afresh for the page, if it is still there
            shift = db.session.get(Shift, shift_id) or abort(404)
            getattr(form, change.refusal.field).errors = [change.refusal.message]
        else:
            flash(emailed_notice(_("Shift saved"), told))
            return redirect(url_for("organiser.roles", slug=event.slug), code=303)
    return render_template("organiser/shift_edit.html", event=event, shift=shift, form=form), 422


@dataclass(frozen=True)
class _Removal:
    """What removing one kind of thing takes: who is on it, the domain call, the notice."""

    people: Callable[[Any], int]
    remove: Callable[..., int]
    done: str


_REMOVALS = {
    "shift": _Removal(
        lambda shift: len(shift_editing.people_on(shift)),
        shift_editing.remove_shift,
        _l("Shift removed"),
    ),
    "role": _Removal(
        lambda role: sum(len(shift_editing.people_on(s)) for s in role.shifts),
        shift_editing.remove_role,
        _l("Role removed"),
    ),
}


def _confirm_removal(name: str, thing, event: Event):
    """GET asks; POST removes, after a ticked confirmation if anyone is affected.

    The people on it are counted afresh after a refusal: the domain call raises
    NeedsConfirmation when people arrived since the page was shown.
    """
    removal = _REMOVALS[name]
    people = removal.people(thing)
    form = ConfirmForm() if request.method == "POST" else ConfirmForm(formdata=None)
    status = 200
    if request.method == "POST":
        status = 422
        confirmed = form.validate_on_submit()
        if confirmed or CsrfOnlyForm().validate_on_submit():
            kind, thing_id = type(thing), thing.id
            with organiser_change(shift_editing.NeedsConfirmation) as change:
                told = removal.remove(thing, confirmed=confirmed)
                change.audit(f"remove {name}", event, rows=told or None)
            if change.refusal:  # counted afresh, if another organiser has not removed it
                thing = db.session.get(kind, thing_id) or abort(404)
                people = removal.people(thing)
                form.confirm.errors = [change.refusal.message]
            else:
                flash(emailed_notice(removal.done, told))
                return redirect(url_for("organiser.roles", slug=event.slug), code=303)
    return render_template(
        f"organiser/{name}_remove.html",
        event=event,
        people=people,
        form=form,
        **{name: thing},
    ), status


@bp.route("/shifts/<int(max=2147483647):shift_id>/remove", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def remove_shift(shift: Shift, event: Event):
    """Asks first, saying how many people will be emailed; a shift nobody is on goes at once."""
    return _confirm_removal("shift", shift, event)


@bp.route("/roles/<int(max=2147483647):role_id>/remove", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def remove_role(role: Role, event: Event):
    """Removes the role with all its shifts; asks first when anyone is on them."""
    return _confirm_removal("role", role, event)
