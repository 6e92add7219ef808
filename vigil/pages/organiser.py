"""The organisers' area: log-in, the dashboard, volunteer rosters.

Every page needs a log-in; an event outside a person's events is a 404 (it does not
exist for them) and a task outside their role is a 403.
"""

import hashlib
import io
import time

from flask import (
    Blueprint,
    Response,
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
from flask_login import current_user, login_required, login_user, logout_user

from .. import organisers, volunteers
from ..cli import ROSTER_COLUMNS
from ..extensions import db, limiter
from ..forms import CsrfOnlyForm, LoginForm
from ..models import Event, Organiser
from ..rsvps import normalise_email
from ..spreadsheets import write_csv

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


def init_login(manager) -> None:
    manager.login_view = "organiser.login"
    manager.login_message = None

    @manager.user_loader
    def load(user_id: str) -> Organiser | None:
        """Sessions carry the account's session version: a password change or a
        disable ends every older session."""
        account_id, _sep, version = user_id.partition(":")
        if not account_id.isdigit() or not version.isdigit():
            return None
        organiser = db.session.get(Organiser, int(account_id))
        if organiser is None or not organiser.active or organiser.session_version != int(version):
            return None
        return organiser


def _account_key() -> str:
    """Throttle by the account tried, hashed so no address sits in the limiter store."""
    email = request.form.get("email", "")[:254]
    return "login:" + hashlib.sha256(normalise_email(email).encode()).hexdigest()


def _failed(response: Response) -> bool:
    return response.status_code != 303


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["VIGIL_LOGIN_LIMIT_PER_CLIENT"],
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["VIGIL_LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_failed,
)
def login():
    """The error never says whether the address has an account."""
    form = LoginForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("organiser/login.html", form=form), 400 if (
                "csrf_token" in form.errors
            ) else 422
        organiser = organisers.authenticate(form.email.data, form.password.data)
        if organiser is None:
            time.sleep(current_app.config["VIGIL_LOGIN_FAILURE_DELAY_SECONDS"])
            return render_template(
                "organiser/login.html",
                form=form,
                error=_("That email and password do not match an active account."),
            ), 401
        db.session.commit()
        session.clear()  # a new session at log-in: nothing carried over from before
        login_user(organiser)
        return redirect(url_for("organiser.dashboard"), code=303)
    return render_template("organiser/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    logout_user()
    session.clear()
    flash(_("You have logged out."))
    return redirect(url_for("organiser.login"), code=303)


@bp.get("/")
@login_required
def dashboard():
    events = organisers.visible_events(current_user)
    return (
        render_template("organiser/dashboard.html", events=events, logout=CsrfOnlyForm()),
        200,
        {"Cache-Control": "no-store"},
    )


def managed_event_or_abort(slug: str) -> Event:
    """404 for events the person may not know of, 403 for ones they may not manage."""
    event = db.session.scalar(db.select(Event).where(Event.slug == slug))
    if event is None or not organisers.can_see(current_user, event):
        abort(404)
    if not organisers.can_manage(current_user, event):
        abort(403)
    return event


@bp.get("/events/<slug>/roster")
@login_required
def roster(slug: str):
    event = managed_event_or_abort(slug)
    rows = volunteers.roster(event)
    return (
        render_template("organiser/roster.html", event=event, rows=rows, logout=CsrfOnlyForm()),
        200,
        {"Cache-Control": "no-store"},
    )


@bp.get("/events/<slug>/roster.csv")
@login_required
def roster_csv(slug: str):
    event = managed_event_or_abort(slug)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM: spreadsheet apps then read Chinese names right
    write_csv(buffer, ROSTER_COLUMNS, volunteers.roster_rows(volunteers.roster(event)))
    return Response(
        buffer.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-roster.csv"',
            "Cache-Control": "no-store",
        },
    )
