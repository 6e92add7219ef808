"""Helpers shared by tests: act like a browser, read mail like a mail client."""

import email
import email.policy
import re
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event

from vigil.extensions import db


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def submit(client, page_url: str, action_url: str, data: dict, **kw):
    """Like a browser: load the page, take its CSRF token, post the form."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
    return client.post(action_url, data=form, **kw)


def login(client, email: str, password: str | None = None):
    """Log in through the form, as an organiser would."""
    from conftest import PASSWORD

    page = client.get("/organiser/login").get_data(as_text=True)
    return client.post(
        "/organiser/login",
        data={"csrf_token": csrf_token(page), "email": email, "password": password or PASSWORD},
    )


def mail_dir(app) -> Path:
    return Path(app.instance_path) / "mail"


def sent_mail(app) -> list[email.message.EmailMessage]:
    """Deliver what is due (into files, as the embedded set-up does), then read every
    message written so far, oldest first, parsed as a mail client would."""
    from flask import current_app, has_app_context

    from vigil.worker import drain

    if has_app_context() and current_app._get_current_object() is app:
        drain()  # in the test's own session, which must not hold SQLite's lock meanwhile
    else:
        with app.app_context():
            drain()
    directory = mail_dir(app)
    if not directory.exists():
        return []
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(directory.glob("*.eml"))
    ]


def text_body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def manage_link(msg) -> str:
    """The path of the manage link in an email, as the person would click it."""
    match = re.search(r"http://vigil\.test(/rsvp/[A-Za-z0-9_-]+)", text_body(msg))
    assert match, "no manage link in the email"
    return match.group(1)


def assert_unique_ids(html: str) -> None:
    """Duplicate ids break labels and screen readers; every id on a page must be unique."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


SESSION_ACTIONS = ("log in", "log out", "failed log-in")


def audited(app) -> list[tuple[str, int | None]]:
    """(action, rows) of the audit trail in order, leaving out log-ins and log-outs."""
    from vigil.models import AuditEntry

    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.rows) for e in entries if e.action not in SESSION_ACTIONS]


@contextmanager
def recorded_statements(app):
    """Every SQL statement the app sends meanwhile, with its values left out."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def client_from(app, address: str):
    """A new browser on another network: requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def confirmed_sign_up(event, **details):
    """A volunteer sign-up as a person makes it: sent, then confirmed from their mailbox.
    Call inside an app context; `event` is loaded, `details` as volunteers.sign_up."""
    from vigil import volunteers
    from vigil.extensions import db
    from vigil.models import VolunteerSignup

    result = volunteers.sign_up(event, **details)
    db.session.commit()
    if result.was_new:
        volunteers.confirm_signup(db.session.get(VolunteerSignup, result.signup.id))
        db.session.commit()
    return result
