"""The organisers' area: log-in, the dashboard, volunteer rosters.

Every page needs a log-in; an event outside a person's events is a 404 (it does not
exist for them) and a task outside their role is a 403.
"""

import io
import time
import uuid

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
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from .. import attendees, audit, organisers, rosters, two_factor, volunteers
from ..database import begin_read_only
from ..event_files import to_local, to_utc
from ..events import RsvpCounts, rsvp_counts
from ..extensions import db, limiter
from ..forms import (
    AttendeeSearchForm,
    CheckInForm,
    ConfirmForm,
    CsrfOnlyForm,
    LoginForm,
    MessageForm,
    RoleForm,
    ShiftForm,
    invalid_status,
)
from ..models import Event, Organiser, Role, Rsvp, Shift
from ..spreadsheets import write_csv
from ..throttling import account_key, client_key
from . import organiser_two_step

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
        if not organisers.session_is_fresh(session, time.time(), current_app.config):
            return None
        organiser = db.session.get(Organiser, int(account_id))
        if organiser is None or not organiser.active or organiser.session_version != int(version):
            return None
        return organiser


@bp.route("/login", methods=["GET", "POST"])
# Every attempt counts, before the password is checked: counting only failures
# afterwards would let many parallel guesses all pass the check first.
@limiter.limit(
    lambda: current_app.config["VIGIL_LOGIN_LIMIT_PER_CLIENT"],
    methods=["POST"],
    key_func=client_key,
)
@limiter.limit(
    lambda: current_app.config["VIGIL_LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=account_key,
)
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
            db.session.commit()
            time.sleep(current_app.config["VIGIL_LOGIN_FAILURE_DELAY_SECONDS"])
            return render_template(
                "organiser/login.html",
                form=form,
                error=_("That email and password do not match an active account."),
            ), 401
        if two_factor.is_enabled(organiser):
            db.session.commit()
            return organiser_two_step.begin(organiser)  # the code, then logged in
        audit.record(organiser, "log in")
        db.session.commit()
        organiser_two_step.complete_log_in(organiser)
        return redirect(url_for("organiser.dashboard"), code=303)
    return render_template("organiser/login.html", form=form)


@bp.post("/logout")
@login_required
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


@bp.get("/")
@login_required
def dashboard():
    events = organisers.visible_events(current_user)
    ids = [e.id for e in events]
    counts = rsvp_counts(ids)
    return (
        render_template(
            "organiser/dashboard.html",
            events=events,
            counts=counts,
            empty=RsvpCounts(),
            gaps=rosters.open_places(ids),
            # every listed event is one the person may see: managing is then the role's
            manageable=set(ids) if organisers.manages_events(current_user) else set(),
            can_create=organisers.manages_events(current_user),
            logout=CsrfOnlyForm(),
        ),
        200,
    )


def allowed_event_or_abort(event: Event | None, manage: bool = True) -> Event:
    """404 for events the person may not know of; 403 where managing is needed and
    their role only checks people in."""
    if event is None or not organisers.can_see(current_user, event):
        abort(404)
    if manage and not organisers.manages_events(current_user):
        abort(403)
    return event


def _event_by_slug(slug: str) -> Event | None:
    return db.session.scalar(db.select(Event).where(Event.slug == slug))


def managed_event_or_abort(slug: str) -> Event:
    return allowed_event_or_abort(_event_by_slug(slug))


@bp.get("/events/<slug>/roster")
@login_required
def roster(slug: str):
    event = managed_event_or_abort(slug)
    rows = rosters.roster(event)
    audit.record(
        current_user, "view volunteer roster", event, rows=sum(len(r.people) for r in rows)
    )
    db.session.commit()
    return (
        render_template(
            "organiser/roster.html",
            event=event,
            rows=rows,
            unplaced=rosters.without_shift(event),
            logout=CsrfOnlyForm(),
        ),
        200,
    )


@bp.get("/events/<slug>/roster.csv")
@login_required
def roster_csv(slug: str):
    event = managed_event_or_abort(slug)
    rows = rosters.roster(event)
    audit.record(
        current_user, "export volunteer roster", event, rows=sum(len(r.people) for r in rows)
    )
    db.session.commit()
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM: spreadsheet apps then read Chinese names right
    write_csv(buffer, rosters.ROSTER_COLUMNS, rosters.roster_rows(rows))
    return Response(
        buffer.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-roster.csv"',
        },
    )


# ---------------------------------------------------------------- roles and shifts


def _shift_values(form: ShiftForm, event: Event) -> dict:
    """Local times typed by the organiser, stored in UTC; a time the clocks skip is refused."""
    values = {}
    for name in ("starts", "ends"):
        try:
            values[f"{name}_at"] = to_utc(getattr(form, name).data, event.zone)
        except ValueError:
            getattr(form, name).errors = [_("That time does not exist there: the clocks skip it.")]
            raise
    values.update(
        capacity=form.capacity.data,
        meeting_point=form.meeting_point.data or "",
        note=form.note.data or None,
    )
    return values


def _render_roles(event: Event, role_form=None, shift_forms=None, status=200):
    roles = volunteers.event_roles(event)
    fill = volunteers.shift_fill(event)
    return (
        render_template(
            "organiser/roles.html",
            event=event,
            roles=roles,
            fill=fill,
            role_form=role_form or RoleForm(formdata=None),
            shift_forms=shift_forms or {},
            empty_shift=ShiftForm(formdata=None),
            logout=CsrfOnlyForm(),
        ),
        status,
    )


@bp.route("/events/<slug>/roles", methods=["GET", "POST"])
@login_required
def roles(slug: str):
    """Roles and shifts of an event; POST adds a role."""
    event = managed_event_or_abort(slug)
    if request.method == "GET":
        return _render_roles(event)
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_roles(event, role_form=form, status=422)
    volunteers.add_role(event, **form.values())
    audit.record(current_user, "add role", event)
    db.session.commit()
    flash(_("Role added."))
    return redirect(url_for("organiser.roles", slug=slug), code=303)


def _role_or_abort(role_id: int) -> tuple[Role, Event]:
    role = db.session.get(Role, role_id)
    if role is None:
        abort(404)
    return role, allowed_event_or_abort(role.event)


def _shift_or_abort(shift_id: int) -> tuple[Shift, Event]:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        abort(404)
    return shift, allowed_event_or_abort(shift.role.event)


@bp.route("/roles/<int(max=2147483647):role_id>/edit", methods=["GET", "POST"])
@login_required
def edit_role(role_id: int):
    role, event = _role_or_abort(role_id)
    form = RoleForm(obj=role) if request.method == "GET" else RoleForm()
    if request.method == "POST" and form.validate_on_submit():
        volunteers.update_role(role, **form.values())
        audit.record(current_user, "edit role", event)
        db.session.commit()
        flash(_("Role saved."))
        return redirect(url_for("organiser.roles", slug=event.slug), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "organiser/role_edit.html", event=event, role=role, form=form, logout=CsrfOnlyForm()
    ), status


@bp.post("/roles/<int(max=2147483647):role_id>/shifts")
@login_required
def add_shift(role_id: int):
    role, event = _role_or_abort(role_id)
    form = ShiftForm()
    try:
        if not form.validate_on_submit():
            raise ValueError
        volunteers.add_shift(role, **_shift_values(form, event))
    except (ValueError, volunteers.ShiftProblem) as exc:
        db.session.rollback()
        if isinstance(exc, volunteers.ShiftProblem):
            getattr(form, exc.field).errors = [exc.message]
        return _render_roles(event, shift_forms={role.id: form}, status=422)
    audit.record(current_user, "add shift", event)
    db.session.commit()
    flash(_("Shift added."))
    return redirect(url_for("organiser.roles", slug=event.slug), code=303)


@bp.route("/shifts/<int(max=2147483647):shift_id>/edit", methods=["GET", "POST"])
@login_required
def edit_shift(shift_id: int):
    shift, event = _shift_or_abort(shift_id)
    if request.method == "GET":
        form = ShiftForm(
            formdata=None,
            starts=to_local(shift.starts_at, event.zone),
            ends=to_local(shift.ends_at, event.zone),
            capacity=shift.capacity,
            meeting_point=shift.meeting_point,
            note=shift.note,
        )
        return render_template(
            "organiser/shift_edit.html", event=event, shift=shift, form=form, logout=CsrfOnlyForm()
        )
    form = ShiftForm()
    try:
        if not form.validate_on_submit():
            raise ValueError
        told = volunteers.update_shift(shift, **_shift_values(form, event))
    except (ValueError, volunteers.ShiftProblem) as exc:
        db.session.rollback()
        shift, event = _shift_or_abort(shift_id)
        if isinstance(exc, volunteers.ShiftProblem):
            getattr(form, exc.field).errors = [exc.message]
        return render_template(
            "organiser/shift_edit.html", event=event, shift=shift, form=form, logout=CsrfOnlyForm()
        ), 422
    audit.record(current_user, "edit shift", event, rows=told or None)
    db.session.commit()
    flash(
        ngettext(
            "Shift saved; %(num)d person was emailed.",
            "Shift saved; %(num)d people were emailed.",
            told,
        )
        if told
        else _("Shift saved.")
    )
    return redirect(url_for("organiser.roles", slug=event.slug), code=303)


def _confirm_removal(name: str, load, remove, done):
    """GET asks; POST removes, after a ticked confirmation if anyone is affected.

    `load()` gives (thing, event, people affected), read afresh after a refusal;
    `remove(thing, confirmed)` raises NeedsConfirmation when people arrived since.
    """
    thing, event, people = load()
    form = ConfirmForm() if request.method == "POST" else ConfirmForm(formdata=None)
    status = 200
    if request.method == "POST":
        status = 422
        confirmed = form.validate_on_submit()
        if confirmed or CsrfOnlyForm().validate_on_submit():
            try:
                told = remove(thing, confirmed)
            except volunteers.NeedsConfirmation as exc:
                db.session.rollback()
                thing, event, people = load()
                form.confirm.errors = [exc.message]
            else:
                audit.record(current_user, f"remove {name}", event, rows=told or None)
                db.session.commit()
                flash(done(told))
                return redirect(url_for("organiser.roles", slug=event.slug), code=303)
    return render_template(
        f"organiser/{name}_remove.html",
        event=event,
        people=people,
        form=form,
        logout=CsrfOnlyForm(),
        **{name: thing},
    ), status


@bp.route("/shifts/<int(max=2147483647):shift_id>/remove", methods=["GET", "POST"])
@login_required
def remove_shift(shift_id: int):
    """Asks first, saying how many people will be emailed; a shift nobody is on goes at once."""

    def load():
        shift, event = _shift_or_abort(shift_id)
        return shift, event, len(volunteers.people_on(shift))

    return _confirm_removal(
        "shift",
        load,
        lambda shift, confirmed: volunteers.remove_shift(shift, confirmed=confirmed),
        lambda told: (
            ngettext(
                "Shift removed; %(num)d person was emailed.",
                "Shift removed; %(num)d people were emailed.",
                told,
            )
            if told
            else _("Shift removed.")
        ),
    )


@bp.route("/roles/<int(max=2147483647):role_id>/remove", methods=["GET", "POST"])
@login_required
def remove_role(role_id: int):
    """Removes the role with all its shifts; asks first when anyone is on them."""

    def load():
        role, event = _role_or_abort(role_id)
        return role, event, sum(len(volunteers.people_on(s)) for s in role.shifts)

    return _confirm_removal(
        "role",
        load,
        lambda role, confirmed: volunteers.remove_role(role, confirmed=confirmed),
        lambda told: (
            ngettext(
                "Role removed; %(num)d person was emailed.",
                "Role removed; %(num)d people were emailed.",
                told,
            )
            if told
            else _("Role removed.")
        ),
    )


# ---------------------------------------------------------------- attendees


@bp.route("/events/<slug>/attendees", methods=["GET", "POST"])
@login_required
def attendee_list(slug: str):
    """Searching is a POST, so a typed name or address never lands in a URL or a log."""
    event = managed_event_or_abort(slug)
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
    return (
        render_template(
            "organiser/attendees.html", event=event, form=form, result=page, logout=CsrfOnlyForm()
        ),
        status,
    )


@bp.get("/events/<slug>/attendees.csv")
@login_required
def attendee_csv(slug: str):
    """Streamed: rows are read and written in chunks, so memory stays flat at any size."""
    event = managed_event_or_abort(slug)
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


# ---------------------------------------------------------------- check-in


def event_for_check_in(slug: str) -> Event:
    """Stewards, organisers and admins of the event; 404 for everyone else."""
    return allowed_event_or_abort(_event_by_slug(slug), manage=False)


@bp.route("/events/<slug>/check-in", methods=["GET", "POST"])
@login_required
def check_in(slug: str):
    """Find a person by code, name or address and check them in (or undo), one-handed."""
    event = event_for_check_in(slug)
    form = CheckInForm() if request.method == "POST" else CheckInForm(formdata=None)
    found, status = [], 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = invalid_status(form)
        else:
            action = request.form.get("action", "search")
            if action in ("in", "undo") and form.rsvp.data:
                rsvp = db.session.get(Rsvp, form.rsvp.data)
                if rsvp is None or rsvp.event_id != event.id:
                    abort(404)
                try:
                    attendees.set_checked_in(rsvp, action == "in")
                except ValueError:
                    abort(409)
                audit.record(
                    current_user, "check in" if action == "in" else "undo check-in", event, rows=1
                )
            found = attendees.find_for_check_in(event, form.q.data or "")
            if form.q.data:
                audit.record(current_user, "check-in search", event, rows=len(found))
            db.session.commit()
    return (
        render_template(
            "organiser/check_in.html",
            event=event,
            form=form,
            found=found,
            counts=attendees.checkin_counts(event),
            can_add=organisers.manages_events(current_user),
            logout=CsrfOnlyForm(),
        ),
        status,
    )


# ---------------------------------------------------------------- messages


@bp.route("/events/<slug>/message", methods=["GET", "POST"])
@login_required
def message(slug: str):
    """Write, preview with the number of recipients, then send through the outbox."""
    event = managed_event_or_abort(slug)
    if request.method == "GET":
        form = MessageForm(formdata=None, key=uuid.uuid4().hex)
        return _render_message(event, form)
    form = MessageForm()
    if not form.validate_on_submit():
        return _render_message(event, form, status=invalid_status(form))
    if not form.confirm.data:
        count = len(attendees.message_recipients(event, form.audience.data))
        return _render_message(event, form, preview=True, count=count)
    sent = attendees.message_attendees(
        event,
        subject=form.subject.data,
        body=form.body.data,
        audience=form.audience.data,
        message_key=form.key.data,
    )
    audit.record(current_user, "message attendees", event, rows=sent)
    db.session.commit()
    flash(
        ngettext("Message queued for %(num)d person.", "Message queued for %(num)d people.", sent)
    )
    return redirect(url_for("organiser.dashboard"), code=303)


def _render_message(event, form, preview=False, count=0, status=200):
    return (
        render_template(
            "organiser/message.html",
            event=event,
            form=form,
            preview=preview,
            count=count,
            logout=CsrfOnlyForm(),
        ),
        status,
    )
