"""E-mail: render a message from its .txt/.html template pair and queue it with the change.

Messages are held on the database session and only written out after the
transaction commits, so a rolled-back change sends nothing. For now each
committed message is written as an `.eml` file into `instance/mail/`.
"""

import logging
import os
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path

from flask import Flask, current_app, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .models import utcnow

log = logging.getLogger(__name__)

_PENDING = "vigil_pending_mail"


def build_message(*, to: str, subject: str, template: str, context: dict) -> EmailMessage:
    """A multipart/alternative message rendered from `email/<template>.txt` and `.html`."""
    config = current_app.config
    sender_name = config["VIGIL_ORG_NAME"]
    _, sender_address = parseaddr(config["MAIL_DEFAULT_SENDER"])
    context = {"subject": subject, "org_name": sender_name, **context}
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((sender_name, sender_address))
    msg["To"] = to
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or "vigil.invalid")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_template(f"email/{template}.txt", **context))
    msg.add_alternative(render_template(f"email/{template}.html", **context), subtype="html")
    return msg


def queue_email(*, kind: str, to: str, subject: str, template: str, context: dict) -> None:
    """Render now, deliver after the surrounding transaction commits."""
    msg = build_message(to=to, subject=subject, template=template, context=context)
    directory = Path(current_app.instance_path) / "mail"
    db.session.info.setdefault(_PENDING, []).append((directory, kind, msg))


def _write_pending(session: Session) -> None:
    for directory, kind, msg in session.info.pop(_PENDING, []):
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{kind}-{uuid.uuid4().hex[:8]}.eml"
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(msg.as_bytes())
        log.info("mail written kind=%s file=%s", kind, name)


def _discard_pending(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_PENDING, None)


def init_mail(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _write_pending):
        event.listen(Session, "after_commit", _write_pending)
        event.listen(Session, "after_soft_rollback", _discard_pending)
