"""Logging in and out of the organisers' area, and two-step log-in.

Between the password and the code, the session holds only the account's id and
session version and when the password was accepted; nobody is logged in yet.
"""

import time

from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ... import audit, organisers, trusted_devices, two_factor
from ...extensions import db, limiter
from ...forms.accounts import CodeForm, LoginForm
from ...forms.base import CsrfOnlyForm, invalid_status
from ...models import Organiser
from ...throttling import account_key, client_key, refund_this_attempt
from .access import Need, bp, organiser_view

PENDING = "two_step_pending"
PENDING_SECONDS = 300


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
        if not organisers.session_is_fresh(session, time.time(), current_app.config):
            return None
        organiser = db.session.get(Organiser, int(account_id))
        if organiser is None or not organiser.active or organiser.session_version != int(version):
            return None
        return organiser


def complete_log_in(organiser: Organiser):
    if hasattr(organiser, "_get_current_object"):  # current_user: the account itself
        organiser = organiser._get_current_object()
    session.clear()  # a new session at log-in: nothing carried over from before
    organisers.start_session(session, time.time())
    login_user(organiser)
    address = organiser.email

    @after_this_request
    def remember_device(response):
        trusted_devices.remember(response, address)
        return response


def _begin_two_step(organiser: Organiser):
    """After a right password on an account with two-step log-in: ask for the code."""
    session.clear()
    session[PENDING] = {
        "id": organiser.id,
        "v": organiser.session_version,
        "at": int(time.time()),
    }
    return redirect(url_for("organiser.login_code"), code=303)


def _pending_account() -> Organiser | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    organiser = db.session.get(Organiser, pending.get("id"))
    if organiser is None or not organiser.active or organiser.session_version != pending.get("v"):
        return None
    return organiser


def _pending_key() -> str:
    pending = session.get(PENDING)
    return f"two-step:{pending.get('id') if isinstance(pending, dict) else 'none'}"


def _attempts_limited(setting: str, key_func, exempt_when=None):
    """Every attempt counts, before the password or code is checked: counting only
    failures afterwards would let many parallel guesses all pass the check first."""
    return limiter.limit(
        lambda: current_app.config[setting],
        methods=["POST"],
        key_func=key_func,
        exempt_when=exempt_when,
    )


def _untrusted() -> bool:
    return not trusted_devices.trusted_for_typed_account()


@bp.route("/login", methods=["GET", "POST"])
@organiser_view(Need.ANYONE)
@_attempts_limited("VIGIL_LOGIN_LIMIT_PER_CLIENT", client_key)
# The account's limit for browsers it never logged in from; its own browsers are
# counted by their cookie instead, so strangers failing cannot lock the owner out.
@_attempts_limited(
    "VIGIL_LOGIN_LIMIT_PER_ACCOUNT",
    account_key,
    exempt_when=trusted_devices.trusted_for_typed_account,
)
@_attempts_limited("VIGIL_LOGIN_LIMIT_PER_ACCOUNT", trusted_devices.device_key, _untrusted)
def login():
    """The error never says whether the address has an account."""
    form = LoginForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("organiser/login.html", form=form), invalid_status(form)
        organiser = organisers.authenticate(form.email.data, form.password.data)
        if organiser is None:
            # The account tried, if there is one, so admins see who is being targeted.
            audit.record(organisers.find_organiser(form.email.data[:254]), "failed log-in")
            db.session.commit()  # no pause: the attempt limits bound guessing, not a sleep
            return render_template(
                "organiser/login.html",
                form=form,
                error=_("That email and password do not match an active account."),
            ), 401
        refund_this_attempt("login:", "device:")  # only failures stay counted
        if two_factor.is_enabled(organiser):
            db.session.commit()
            return _begin_two_step(organiser)  # the code, then logged in
        audit.record(organiser, "log in")
        db.session.commit()
        complete_log_in(organiser)
        return redirect(url_for("organiser.dashboard"), code=303)
    return render_template("organiser/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@organiser_view(Need.ANYONE)
@_attempts_limited("VIGIL_LOGIN_LIMIT_PER_ACCOUNT", _pending_key)
def login_code():
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
            refund_this_attempt("two-step:")
            audit.record(organiser, "log in")
            db.session.commit()
            complete_log_in(organiser)
            return redirect(url_for("organiser.dashboard"), code=303)
        else:
            audit.record(organiser, "failed two-step code")
            db.session.commit()
            error, status = _("That code is not right, or was used already. Try the next one."), 401
    return render_template("organiser/login_code.html", form=form, error=error), status


@bp.post("/logout")
@organiser_view(Need.LOGIN, before_two_step=True)
def logout():
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    # Ends this account's sessions everywhere: a copied cookie stops working too.
    organisers.end_sessions(current_user)
    audit.record(current_user, "log out")
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."))
    return redirect(url_for("organiser.login"), code=303)


@bp.route("/two-step", methods=["GET", "POST"])
@organiser_view(Need.LOGIN, before_two_step=True)
def two_step():
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
    uri = None
    if secret:
        uri = two_factor.provisioning_uri(
            current_user, secret, current_app.config["VIGIL_ORG_NAME"]
        )
    return render_template(
        "organiser/two_step.html",
        form=form,
        error=error,
        secret=secret,
        uri=uri,
        required=two_factor.is_required(current_user, admins_must),
    ), status
