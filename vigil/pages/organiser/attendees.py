"""An event's attendees: the list and its CSV export (both audit-logged), adding a
walk-up, cancelling an RSVP and moving one off the waitlist by hand.

Searching is a POST, and pages name RSVPs by id only: no name or address ever goes
into a URL or a flashed message (the session cookie is signed, not encrypted).
"""

import io

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ... import attendees, audit, outbox, rsvps
from ...database import begin_read_only
from ...extensions import db
from ...forms.attendees import AttendeeSearchForm, WalkUpForm
from ...forms.base import CsrfOnlyForm, invalid_status
from ...models import Event, Rsvp, RsvpStatus
from ...spreadsheets import write_csv
from .access import Need, bp, organiser_view
from .changes import organiser_change


@bp.route("/events/<slug>/attendees", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def attendee_list(event: Event):
    """Searching is a POST, so a typed name or address never lands in a URL or a log."""
    form = AttendeeSearchForm() if request.method == "POST" else AttendeeSearchForm(formdata=None)
    status = 200
    if request.method == "POST" and not form.validate_on_submit():
        status = invalid_status(form)
        page = attendees.attendee_page(event)
    else:
        page = attendees.attendee_page(
            event,
            query=form.q.data,
            status=form.status.data or None,
            newest_first=form.order.data == "newest",
            page=form.page.data or 1,
        )
    audit.record(current_user, "view attendee list", event, rows=len(page.rows))
    db.session.commit()
    bouncing = outbox.bouncing_rsvps([r.id for r in page.rows])
    return render_template(
        "organiser/attendees.html", event=event, form=form, result=page, bouncing=bouncing
    ), status


@bp.get("/events/<slug>/attendees.csv")
@organiser_view(Need.MANAGE)
def attendee_csv(event: Event):
    """Streamed: rows are read and written in chunks, so memory stays flat at any size."""
    total = attendees.attendee_page(event, per_page=1).total
    audit.record(current_user, "export attendee list", event, rows=total)
    db.session.commit()

    def generate():
        begin_read_only()  # after the audit row's commit: the rows are read without a lock
        buffer = io.StringIO()
        buffer.write("\ufeff")
        write_csv(buffer, attendees.ATTENDEE_COLUMNS, [])
        for chunk in _chunks(attendees.attendee_rows(event), 500):
            write_csv(buffer, None, chunk)
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode("utf-8")

    return Response(
        stream_with_context(generate()),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-attendees.csv"',
        },
    )


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@bp.route("/events/<slug>/walk-up", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def add_walk_up(event: Event):
    form = WalkUpForm() if request.method == "POST" else WalkUpForm(formdata=None)
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = invalid_status(form)
        else:
            with organiser_change() as change:
                rsvp = rsvps.add_walk_up(
                    event,
                    email=form.email.data or None,
                    name=form.name.data,
                    guests=form.guests.data,
                    accessibility=form.accessibility.data,
                    check_in=bool(form.check_in.data),
                )
                change.audit("add rsvp", event, rows=1)
            if change.refusal:
                error, status = change.refusal.message, change.refusal.status_code
            else:
                flash(_walk_up_message(rsvp))
                return redirect(url_for("organiser.add_walk_up", slug=event.slug), code=303)
    return render_template("organiser/walk_up.html", event=event, form=form, error=error), status


def _walk_up_message(rsvp: Rsvp) -> str:
    if rsvp.status == RsvpStatus.WAITLISTED:
        return _("Added to the waitlist: there are not enough places left.")
    if rsvp.checked_in_at:
        return _("Added and checked in.")
    return _("Added with a place.")


@bp.route("/rsvps/<int(max=2147483647):rsvp_id>/cancel", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def cancel_rsvp(rsvp: Rsvp, event: Event):
    """GET asks (the person will be emailed); POST cancels and moves the waitlist up."""
    error, status = None, 200
    if request.method == "POST":
        if not CsrfOnlyForm().validate_on_submit():
            abort(400)
        with organiser_change() as change:
            promoted = rsvps.cancel_rsvp(rsvp, by_organisers=True)
            change.audit("cancel rsvp", event, rows=1)
        if change.refusal:
            error, status = change.refusal.message, change.refusal.status_code
        else:
            flash(
                _("RSVP cancelled; %(num)d moved up from the waitlist.", num=len(promoted))
                if promoted
                else _("RSVP cancelled.")
            )
            return redirect(url_for("organiser.attendee_list", slug=event.slug), code=303)
    return render_template(
        "organiser/rsvp_cancel.html",
        event=rsvp.event,
        rsvp=rsvp,
        error=error,
        form=CsrfOnlyForm(formdata=None),
    ), status


@bp.post("/rsvps/<int(max=2147483647):rsvp_id>/promote")
@organiser_view(Need.MANAGE)
def promote_rsvp(rsvp: Rsvp, event: Event):
    """Out of turn, if it fits; a refusal says why on the attendee list."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    with organiser_change() as change:
        rsvps.promote_rsvp(rsvp)
        change.audit("promote rsvp", event, rows=1)
    if change.refusal:
        flash(str(change.refusal.message))
    else:
        flash(_("Moved off the waitlist: they have a place and are emailed."))
    return redirect(url_for("organiser.attendee_list", slug=event.slug), code=303)
