"""Organisers create, edit, copy, publish, unpublish and cancel events.

A change that emails people (a move in time or place, a cancellation, a cancelled
event published again) is shown first with the number of people it will email,
and happens only once the organiser ticks to confirm.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ... import event_editing
from ...event_editing import StatusProblem
from ...event_rules import EventRulesBroken
from ...forms.base import CsrfOnlyForm, invalid_status
from ...forms.events import EventForm, NotifyConfirmForm
from ...models import Event, EventStatus, utcnow
from .access import Need, bp, organiser_view
from .changes import organiser_change


def _columns_or_errors(form: EventForm, event=None) -> dict | None:
    """Column values, or None with each problem set beside its field."""
    if not form.validate_on_submit():
        return None
    try:
        return event_editing.columns_from_local(form.values(), event)
    except EventRulesBroken as broken:
        for problem in broken.problems:
            getattr(form, problem.field).errors = [problem.message]
        return None


def _slug_taken(form: EventForm):
    """Two organisers saving the same address at once: the database decides."""
    form.slug.errors = [_("Another event uses that web address already.")]


def _render_form(form: EventForm, event=None, source=None, status=200, **context):
    return render_template(
        "organiser/event_form.html", form=form, event=event, source=source, **context
    ), status


def _save_new(form: EventForm, source, make, action: str, done: str):
    """Store a new event from the form (`make(columns)` builds it), or show the form again."""
    columns = _columns_or_errors(form)
    if columns is not None:
        with organiser_change(IntegrityError) as change:
            event = make(columns)
            change.audit(action, event)
        if change.refusal:
            _slug_taken(form)
        else:
            flash(done)
            return redirect(url_for("organiser.edit_event", slug=event.slug), code=303)
    return _render_form(form, source=source, status=422)


@bp.route("/events/new", methods=["GET", "POST"])
@organiser_view(Need.CREATE)
def new_event():
    """A new event starts as a draft: nobody outside sees it until it is published."""
    if request.method == "GET":
        return _render_form(EventForm(formdata=None))
    return _save_new(
        EventForm(),
        None,
        lambda columns: event_editing.create_event(columns, current_user),
        "create event",
        _("Draft saved. Publish it when it is ready."),
    )


@bp.route("/events/<slug>/duplicate", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def duplicate_event(event: Event):
    """A draft copy for next year, with the volunteer roles and shifts; no people."""
    source = event
    if request.method == "GET":
        values = event_editing.duplicate_values(source, utcnow().date())
        return _render_form(EventForm.filled(values), source=source)
    return _save_new(
        EventForm(),
        source,
        lambda columns: event_editing.duplicate_event(source, columns, current_user),
        "duplicate event",
        _("Copy saved as a draft. Check it, then publish it."),
    )


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def edit_event(event: Event):
    if request.method == "GET":
        return _render_form(EventForm.filled(event_editing.local_values(event)), event)
    form = EventForm()
    columns = _columns_or_errors(form, event)
    if columns is None:
        return _render_form(form, event, status=422)
    to_email = event_editing.emails_if_saved(event, columns)
    if to_email and not form.confirm.data:
        return _render_form(form, event, to_email=to_email)
    with organiser_change(IntegrityError) as change:
        notified = event_editing.save_event(
            event, columns, move_shifts=form.shifts_follow.data != "keep"
        )
        change.audit("edit event", event, rows=notified or None)
    if change.refusal:
        _slug_taken(form)  # the event is read afresh, as stored, for the page
        return _render_form(form, event, status=422)
    flash(
        ngettext(
            "Event saved; %(num)d person was emailed the change.",
            "Event saved; %(num)d people were emailed the change.",
            notified,
        )
        if notified
        else _("Event saved.")
    )
    return redirect(url_for("organiser.edit_event", slug=event.slug), code=303)


STATUS_ACTIONS = {
    "publish": event_editing.publish,
    "unpublish": event_editing.unpublish,
    "cancel": event_editing.cancel,
}


@bp.route("/events/<slug>/<any(publish, unpublish, cancel):action>", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def change_status(event: Event, action: str):
    """GET asks; POST acts, after a ticked confirmation when people will be emailed."""
    emails = action == "cancel" or (action == "publish" and event.status == EventStatus.CANCELLED)
    people = event_editing.people_to_tell(event) if emails else 0
    form = NotifyConfirmForm() if request.method == "POST" else NotifyConfirmForm(formdata=None)
    error, status = None, 200
    if request.method == "POST":
        confirmed = form.validate_on_submit()
        if confirmed or (not people and CsrfOnlyForm().validate_on_submit()):
            with organiser_change(StatusProblem) as change:
                done = STATUS_ACTIONS[action](event)
                change.audit(f"{done.action} event", event, rows=done.notified)
            if change.refusal:
                error, status = str(change.refusal), 409
            else:
                flash(_status_message(done))
                return redirect(url_for("organiser.edit_event", slug=event.slug), code=303)
        else:
            status = invalid_status(form)
    return render_template(
        "organiser/event_status.html",
        event=event,
        action=action,
        people=people,
        form=form,
        error=error,
    ), status


def _status_message(change: event_editing.StatusChange) -> str:
    done = {
        "publish": _("Event published."),
        "unpublish": _("Event unpublished: it is a draft again."),
        "cancel": _("Event cancelled."),
        "reinstate": _("Event published again."),
    }[change.action]
    if change.notified:
        done += " " + ngettext(
            "%(num)d person was emailed.", "%(num)d people were emailed.", change.notified
        )
    return done
