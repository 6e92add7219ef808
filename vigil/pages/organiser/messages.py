"""Organisers writing to an event's attendees: write, preview the count, send."""

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from ... import attendees, audit
from ...extensions import db
from ...forms.attendees import MessageForm
from ...forms.base import invalid_status
from ...models import Event
from .access import Need, bp, organiser_view


@bp.route("/events/<slug>/message", methods=["GET", "POST"])
@organiser_view(Need.MANAGE)
def message(event: Event):
    """Write, preview with the number of recipients, then send through the outbox."""
    if request.method == "GET":
        form = MessageForm(formdata=None, key=uuid.uuid4().hex)
        return _render_message(event, form)
    form = MessageForm()
    if not form.validate_on_submit():
        return _render_message(event, form, status=invalid_status(form))
    changed = form.confirm.data and form.previewed.data != form.digest()
    if not form.confirm.data or changed:
        # What is sent is exactly what was previewed: anything changed since (the
        # audience, the subject, the text) is shown again before it can go.
        recipients = attendees.message_recipients(event, form.audience.data)
        form.previewed.data = form.digest()
        return _render_message(
            event,
            form,
            preview=True,
            count=len(recipients),
            changed=changed,
            readers=attendees.reader_languages(recipients),
        )
    sent = attendees.message_attendees(
        event,
        subject=form.subject.data,
        body=form.body.data,
        audience=form.audience.data,
        message_key=form.key.data,
        translations=form.translations(),
    )
    audit.record(current_user, "message attendees", event, rows=sent)
    db.session.commit()
    flash(
        ngettext("Message queued for %(num)d person.", "Message queued for %(num)d people.", sent)
    )
    return redirect(url_for("organiser.dashboard"), code=303)


def _render_message(event, form, preview=False, count=0, status=200, changed=False, readers=None):
    return render_template(
        "organiser/message.html",
        event=event,
        form=form,
        preview=preview,
        count=count,
        changed=changed,
        readers=readers or {},
        given=form.translations(),
    ), status
