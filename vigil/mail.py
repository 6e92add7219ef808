"""E-mail messages: rendered from a .txt/.html template pair, queued in the outbox, and
turned back into a MIME message when a worker sends them.

Rendering happens when the message is queued, inside the transaction of the change
that caused it: a rolled-back change leaves no message, a committed one always has
its message.
"""

import logging
import uuid
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

from flask import current_app, render_template

from . import outbox
from .outbox import Claimed

log = logging.getLogger(__name__)


def sender_address() -> str:
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1] or "vigil@localhost"


def new_message_id() -> str:
    domain = sender_address().rpartition("@")[2] or "vigil.invalid"
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_email(
    *,
    kind: str,
    dedupe_key: str,
    to: str,
    subject: str,
    template: str,
    context: dict,
    calendar: bytes | None = None,
    calendar_filename: str | None = None,
    unsubscribe_url: str | None = None,
    event_id: int | None = None,
    rsvp_id: int | None = None,
    signup_id: int | None = None,
) -> bool:
    """Render `email/<template>.txt` and `.html` and add the message to the outbox.

    Returns False (and queues nothing) when a message with `dedupe_key` exists.
    """
    context = {"subject": subject, "org_name": current_app.config["VIGIL_ORG_NAME"], **context}
    added = outbox.add_message(
        kind=kind,
        dedupe_key=dedupe_key,
        recipient=to,
        subject=subject,
        body_text=render_template(f"email/{template}.txt", **context),
        body_html=render_template(f"email/{template}.html", **context),
        calendar=calendar.decode("utf-8") if calendar else None,
        calendar_filename=calendar_filename,
        unsubscribe_url=unsubscribe_url,
        message_id=new_message_id(),
        event_id=event_id,
        rsvp_id=rsvp_id,
        signup_id=signup_id,
    )
    if added:
        log.info(
            "mail queued kind=%s event=%s rsvp=%s signup=%s", kind, event_id, rsvp_id, signup_id
        )
    return added


# Quoted-printable keeps every line short (SMTP refuses lines over 998 octets) and
# stays readable for non-Latin text; base64 keeps a calendar file's CRLFs exact.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
_UTF8_QP.header_encoding = QP


def to_mime(message: Claimed) -> Message:
    """The message as sent: multipart/alternative text and HTML, plus the calendar file.

    Built with the classic MIME classes: several times faster than EmailMessage's
    header parsing, which matters when a worker sends hundreds a second.
    """
    config = current_app.config
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(message.body_text, "plain", _UTF8_QP))
    body.attach(MIMEText(message.body_html, "html", _UTF8_QP))
    if message.calendar:
        mime = MIMEMultipart("mixed")
        mime.attach(body)
        ics = MIMEBase("text", "calendar", charset="utf-8", method="PUBLISH")
        ics.set_payload(message.calendar.encode("utf-8"))
        encode_base64(ics)
        ics.add_header(
            "Content-Disposition", "attachment", filename=message.calendar_filename or "event.ics"
        )
        mime.attach(ics)
    else:
        mime = body
    charset = "us-ascii" if message.subject.isascii() else "utf-8"
    mime["Subject"] = Header(message.subject, charset, header_name="Subject")
    mime["From"] = formataddr((config["VIGIL_ORG_NAME"], sender_address()), charset="utf-8")
    mime["To"] = message.recipient
    mime["Date"] = format_datetime(message.created_at)
    mime["Message-ID"] = message.message_id
    mime["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        mime["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
    return mime


def as_smtp_bytes(message: Message, utf8: bool = False) -> bytes:
    """CRLF line endings, as SMTP requires (smtplib does not add them to bytes).

    With `utf8` (SMTPUTF8), an internationalised To address is written as raw UTF-8:
    the classic MIME classes would encode it into something that is no address.
    """
    policy = message.policy.clone(linesep="\r\n")
    if not utf8:
        return message.as_bytes(policy=policy)
    recipient = message["To"]
    del message["To"]
    try:
        return b"To: " + recipient.encode("utf-8") + b"\r\n" + message.as_bytes(policy=policy)
    finally:
        message["To"] = recipient
