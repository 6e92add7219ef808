"""E-mail messages: queued in the outbox, rendered from a .txt/.html template pair,
then built as a `flask_mail.Message` when a worker sends them.

A message is queued inside the transaction of the change that caused it, so a
rolled-back change leaves no message and a committed one always has its message.
It is queued as a template and its context and rendered by the worker just before
it is sent: the request that caused it does the same small write whatever it is.
"""

import email.policy
import json
import logging
import uuid
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.utils import formataddr, parseaddr

import flask_mail
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
    event_id: int | None = None,
    rsvp_id: int | None = None,
    signup_id: int | None = None,
) -> bool:
    """Add a message to the outbox, to be rendered from `email/<template>` when sent.

    `context` holds plain values only (it is stored as JSON). Returns False (and
    queues nothing) when a message with `dedupe_key` exists.
    """
    added = outbox.add_message(
        kind=kind,
        dedupe_key=dedupe_key,
        recipient=to,
        subject=subject,
        template=template,
        context=json.dumps(context),
        calendar=calendar.decode("utf-8") if calendar else None,
        calendar_filename=calendar_filename,
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


def render_bodies(template: str, context: dict) -> tuple[str, str]:
    """The text and HTML bodies of `email/<template>`."""
    context = {"org_name": current_app.config["VIGIL_ORG_NAME"], **context}
    return (
        render_template(f"email/{template}.txt", **context),
        render_template(f"email/{template}.html", **context),
    )


# Flask-Mail's UTF-8, with quoted-printable bodies: every line stays short (SMTP
# refuses lines over 998 octets) and non-Latin text stays readable. Flask-Mail's
# own sends 8-bit lines as long as the text's paragraphs.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


# SMTP's CRLF line ends with the classic header handling. Flask-Mail's
# `email.policy.SMTP` re-parses every header while writing: three times slower,
# which matters when a worker sends hundreds a second.
_SMTP_CLASSIC = email.policy.compat32.clone(linesep="\r\n")


class OutgoingMessage(flask_mail.Message):
    """Flask-Mail's message, written fast, and able to carry an internationalised
    address (SMTPUTF8).

    Flask-Mail writes every address as ASCII, which such an address cannot be: it
    is kept aside in `utf8_recipient`, written raw into the To header under
    SMTPUTF8's rules, and sent by the transport with the SMTPUTF8 option.
    """

    def __init__(self, *, recipient: str, **kwargs):
        self.utf8_recipient = None if recipient.isascii() else recipient
        super().__init__(recipients=[] if self.utf8_recipient else [recipient], **kwargs)
        if self.utf8_recipient:
            self.mail_options = ["SMTPUTF8"]

    def as_bytes(self) -> bytes:
        mime = self._message()
        # Flask-Mail encodes every display name, ASCII too ("=?utf-8?q?Vigil?="):
        # encode it only where it needs to be, and under SMTPUTF8 not at all.
        name, address = self.sender
        if self.utf8_recipient:
            mime.replace_header("From", str(Address(display_name=name, addr_spec=address)))
            mime.replace_header("To", self.utf8_recipient)
            return mime.as_bytes(policy=email.policy.SMTPUTF8)
        mime.policy = _SMTP_CLASSIC  # before the From below, which it must keep as written
        mime.replace_header("From", formataddr(self.sender, charset="utf-8"))
        for part in mime.walk():
            if part.is_multipart():
                # "=_" never occurs in quoted-printable or base64 text, so the writer
                # need not search every part for a clash (a regex compiled per part).
                part.set_boundary(f"=_{uuid.uuid4().hex}")
        if not self.subject.isascii():
            # Flask-Mail encodes it to fill a line of its own: fold it after "Subject: ".
            mime.replace_header("Subject", Header(self.subject, "utf-8", header_name="Subject"))
        return mime.as_bytes()


def build_message(message: Claimed) -> OutgoingMessage:
    """The message as sent: text and HTML alternatives, the calendar file (base64, so
    its CRLF line ends arrive exact), and the headers mail clients sort by."""
    headers = {"Auto-Submitted": "auto-generated"}
    if message.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    built = OutgoingMessage(
        subject=message.subject,
        recipient=message.recipient,
        body=message.body_text,
        html=message.body_html,
        date=message.created_at.timestamp(),
        charset=_UTF8_QP,
        extra_headers=headers,
    )
    # Set after construction: Flask-Mail would join a (name, address) pair into one
    # string and parse it back, which breaks a name with a comma or quotes in it.
    built.sender = (current_app.config["VIGIL_ORG_NAME"], sender_address())
    built.msgId = message.message_id
    if message.calendar:
        built.attach(
            filename=message.calendar_filename or "event.ics",
            # The method parameter says what the file says, and only then (RFC 6047).
            content_type="text/calendar; charset=utf-8"
            + ("; method=PUBLISH" if "\r\nMETHOD:PUBLISH\r\n" in message.calendar else ""),
            data=message.calendar.encode("utf-8"),
        )
    return built
