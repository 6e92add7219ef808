"""The private page behind a person's link, for RSVPs and volunteer sign-ups alike.

Each page is a table of actions (a button, its form, one domain call, what the
person is told); this module finds the person, runs the chosen action in one
transaction and answers the same way for both kinds of person.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, request, url_for

from .. import people
from ..database import flush_deleted_data
from ..errors import RsvpGone, SignupGone, VigilError
from ..extensions import db
from ..forms.base import invalid_status


@dataclass(frozen=True)
class Action:
    """One button on a private page.

    `slot` names the page argument that shows this form and its errors; `erases`
    sends the person back to the event page once their data is gone; `respond`,
    when set, answers with the action's result instead of a message and redirect.
    """

    form: type
    run: Callable[[people.Person, object], object]
    done: Callable[[people.Person], str] | None = None
    slot: str | None = None
    erases: bool = False
    respond: Callable | None = None


def person_or_404(model: type, token: str) -> people.Person:
    """Unknown, malformed and erased tokens all look the same: not found."""
    person = people.find_by_token(model, token)
    if person is None:
        abort(404)
    return person


def private_page(
    model: type, token: str, actions: dict[str, Action], render: Callable, endpoint: str
):
    """Show a private page, or run the action posted from it: validate, act, commit once,
    then tell the person.

    `render(person, token, error=..., status=..., **{slot: form})` draws the page.
    Raises NotFound when the person is gone and BadRequest for an unknown action.
    """
    person = person_or_404(model, token)
    if request.method != "POST":
        return render(person, token)
    action = actions.get(request.form.get("action", ""))
    if action is None:
        abort(400)
    form = action.form()
    forms = {action.slot: form} if action.slot else {}
    if not form.validate_on_submit():
        return render(person, token, **forms, status=invalid_status(form))
    slug = person.event.slug
    try:
        result = action.run(person, form)
    except (RsvpGone, SignupGone):
        db.session.rollback()
        abort(404)
    except VigilError as exc:
        db.session.rollback()
        person = person_or_404(model, token)
        field = getattr(form, exc.field, None) if exc.field and action.slot else None
        if field is not None:
            field.errors = [exc.message]
            return render(person, token, **forms, status=exc.status_code)
        return render(person, token, **forms, error=exc.message, status=exc.status_code)
    db.session.commit()
    if action.respond is not None:
        return action.respond(person, token, result)
    flash(action.done(person))
    if action.erases:
        flush_deleted_data()
        return redirect(url_for("events.show", slug=slug), code=303)
    return redirect(url_for(endpoint, token=token), code=303)
