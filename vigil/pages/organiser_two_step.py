"""Two-step log-in: the code after the password, and turning it on or off.

Between the password and the code, the session holds only the account's id and
session version and when the password was accepted; nobody is logged in yet.
"""

import time

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from .. import audit, organisers, two_factor
from ..extensions import db, limiter
from ..forms import CodeForm, CsrfOnlyForm, invalid_status
from ..models import Organiser

bp = Blueprint("organiser_two_step", __name__, url_prefix="/organiser")

PENDING = "two_step_pending"
PENDING_SECONDS = 300


def begin(organiser: Organiser):
    """After a right password on an account with two-step log-in: ask for the code."""
    session.clear()
    session[PENDING] = {
        "id": organiser.id,
        "v": organiser.session_version,
        "at": int(time.time()),
    }
    return redirect(url_for("organiser_two_step.code"), code=303)


def _pending_account() -> Organiser | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    organiser = db.session.get(Organiser, pending.get("id"))
    if organiser is None or not organiser.active or organiser.session_version != pending.get("v"):
        return None
    return organiser


def complete_log_in(organiser: Organiser):
    session.clear()  # a new session at log-in: nothing carried over from before
    organisers.start_session(session, time.time())
    login_user(organiser)


def _pending_key() -> str:
    pending = session.get(PENDING)
    return f"two-step:{pending.get('id') if isinstance(pending, dict) else 'none'}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["VIGIL_LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_pending_key,
)
def code():
    organiser = _pending_account()
    if organiser is None:
        flash(_("Please log in again."))
        return redirect(url_for("organiser.login"), code=303)
    form = CodeForm() if request.method == "POST" else CodeForm(formdata=None)
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = invalid_status(form)
        elif two_factor.verify(organiser, form.code.data):
            audit.record(organiser, "log in")
            db.session.commit()
            complete_log_in(organiser)
            return redirect(url_for("organiser.dashboard"), code=303)
        else:
            audit.record(organiser, "failed two-step code")
            db.session.commit()
            error, status = _("That code is not right, or was used already. Try the next one."), 401
    return render_template("organiser/login_code.html", form=form, error=error), status


@bp.route("/two-step", methods=["GET", "POST"])
@login_required
def setup():
    """Turn two-step log-in on (scan, then one code), or off where it is optional."""
    form = CodeForm() if request.method == "POST" else CodeForm(formdata=None)
    admins_must = current_app.config["VIGIL_ADMIN_TWO_FACTOR"]
    error, status = None, 200
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action")
        if action == "enable" and two_factor.finish_enrolment(current_user, form.code.data):
            audit.record(current_user, "turn on two-step log-in")
            db.session.commit()
            complete_log_in(current_user)  # its other sessions ended; this one goes on
            flash(_("Two-step log-in is on."))
            return redirect(url_for("organiser.dashboard"), code=303)
        if action == "disable" and two_factor.disable(current_user, form.code.data, admins_must):
            audit.record(current_user, "turn off two-step log-in")
            db.session.commit()
            complete_log_in(current_user)
            flash(_("Two-step log-in is off."))
            return redirect(url_for("organiser.dashboard"), code=303)
        db.session.rollback()
        error, status = _("That code is not right, or was used already. Try the next one."), 422
    elif request.method == "POST":
        status = invalid_status(form)
    secret = None
    if not two_factor.is_enabled(current_user):
        secret = current_user.totp_pending or two_factor.start_enrolment(current_user)
        db.session.commit()
    return (
        render_template(
            "organiser/two_step.html",
            form=form,
            error=error,
            secret=secret,
            uri=two_factor.provisioning_uri(
                current_user, secret, current_app.config["VIGIL_ORG_NAME"]
            )
            if secret
            else None,
            required=two_factor.is_required(current_user, admins_must),
            logout=CsrfOnlyForm(),
        ),
        status,
    )


ALLOWED_WITHOUT_TWO_STEP = {"organiser_two_step.setup", "organiser.logout"}


def init_two_step(app: Flask) -> None:
    @app.before_request
    def admins_turn_on_two_step_first():
        """An admin without two-step log-in can do nothing else until it is on."""
        if not (request.blueprint or "").startswith("organiser"):
            return None
        if request.endpoint in ALLOWED_WITHOUT_TWO_STEP or not current_user.is_authenticated:
            return None
        admins_must = current_app.config["VIGIL_ADMIN_TWO_FACTOR"]
        if two_factor.is_required(current_user, admins_must) and not two_factor.is_enabled(
            current_user
        ):
            flash(_("Admins must turn on two-step log-in before anything else."))
            return redirect(url_for("organiser_two_step.setup"), code=303)
        return None
