"""Admins only: organiser accounts and the audit trail."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ... import organisers
from ...extensions import db
from ...forms.accounts import AccountEditForm, AccountForm
from ...forms.base import MAX_ID
from ...models import AuditEntry, Event, Organiser
from .access import Need, bp, organiser_view
from .changes import organiser_change

AUDIT_PAGE_SIZE = 100


@bp.get("/accounts")
@organiser_view(Need.ADMIN)
def accounts():
    rows = db.session.scalars(select(Organiser).order_by(Organiser.role, Organiser.display_name))
    return render_template("organiser/accounts.html", accounts=list(rows))


@bp.route("/accounts/new", methods=["GET", "POST"])
@organiser_view(Need.ADMIN)
def new_account():
    form = AccountForm() if request.method == "POST" else AccountForm(formdata=None)
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            with organiser_change(organisers.AccountError) as change:
                account = organisers.create_organiser(
                    form.email.data, form.display_name.data, form.role.data, form.password.data
                )
                change.audit("create account")
            if change.refusal:
                error = change.refusal.message
            else:
                flash(_("Account created. Now choose its events."))
                return redirect(url_for("organiser.edit_account", account_id=account.id), code=303)
        return render_template("organiser/account_new.html", form=form, error=error), 422
    return render_template("organiser/account_new.html", form=form, error=None)


def _event_choices() -> list[tuple[int, str]]:
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc()))
    return [(e.id, e.title) for e in events]


@bp.route("/accounts/<int(max=2147483647):account_id>", methods=["GET", "POST"])
@organiser_view(Need.ADMIN)
def edit_account(account: Organiser):
    """Role, events, active, and a new password; a change that matters ends its sessions."""
    if request.method == "GET":
        form = AccountEditForm(
            formdata=None,
            role=account.role,
            active=account.active,
            events=[m.event_id for m in account.memberships],
        )
    else:
        form = AccountEditForm()
    form.events.choices = _event_choices()
    error, status = None, 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with organiser_change(organisers.AccountError) as change:
                organisers.update_account(
                    current_user,
                    account,
                    role=form.role.data,
                    active=bool(form.active.data),
                    event_ids={i for i in form.events.data or [] if 1 <= i <= MAX_ID},
                    password=form.password.data or None,
                )
                change.audit("change account")
            if change.refusal:  # the account is read afresh for the page
                error = change.refusal.message
            else:
                flash(_("Account saved."))
                return redirect(url_for("organiser.accounts"), code=303)
    return render_template(
        "organiser/account_edit.html", form=form, account=account, error=error
    ), status


@bp.get("/audit")
@organiser_view(Need.ADMIN)
def audit_log():
    """Newest first, a page at a time. The rows hold no personal data to show."""
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1
    total = db.session.scalar(select(func.count(AuditEntry.id)))
    pages = max((total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1)
    page = min(page, pages)
    rows = db.session.execute(
        select(AuditEntry, Organiser.display_name, Event.title)
        .outerjoin(Organiser, AuditEntry.organiser_id == Organiser.id)
        .outerjoin(Event, AuditEntry.event_id == Event.id)
        .order_by(AuditEntry.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return render_template("organiser/audit.html", rows=rows, page=page, pages=pages, total=total)
