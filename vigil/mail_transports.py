"""Where a built message goes: to an SMTP server through Flask-Mail's connection, or,
in the embedded set-up (no MAIL_SERVER), into an `.eml` file in `instance/mail/`.

Each transport opens a session for a batch (one SMTP connection per batch) and
hands back a `send(message, built)` that raises `TemporaryFailure` or
`PermanentFailure`, so the worker can record each message's outcome on its own.
"""

import smtplib
from contextlib import contextmanager

from flask import current_app
from flask_mail import Connection

from .mail import OutgoingMessage, sender_address
from .mail_files import file_name, mail_directory, write_copy
from .outbox import Claimed


class TemporaryFailure(Exception):
    """Worth trying again later: the server is away, busy, or answered 4xx."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx), or cannot ever take it."""


def _reason(exc: BaseException) -> str:
    """Class and SMTP code only: exception texts can hold the recipient's address."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({c for c, _ in exc.recipients.values()})
        code = codes[0] if codes else None
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def classify(exc: BaseException) -> Exception:
    """5xx (to MAIL FROM, RCPT or DATA) is permanent; 4xx and lost connections are not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        if codes and all(500 <= c < 600 for c in codes):
            return PermanentFailure(_reason(exc))
        return TemporaryFailure(_reason(exc))
    if isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600:
        return PermanentFailure(_reason(exc))
    return TemporaryFailure(_reason(exc))


class TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a hung server cannot stall the
    worker; otherwise Flask-Mail's own set-up (SSL, STARTTLS, login from MAIL_*)."""

    def __init__(self, mail, timeout: float):
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=self.timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class SmtpTransport:
    def __init__(self, timeout: float):
        self.timeout = timeout

    @contextmanager
    def session(self):
        # Opened here rather than with `with connection:`, which Flask-Mail skips when
        # TESTING suppresses sending: a worker pointed at a server always sends.
        connection = TimedConnection(current_app.extensions["mail"], self.timeout)
        try:
            connection.host = connection.configure_host()
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(_reason(exc)) from exc
        try:
            yield lambda message, built: self._send(connection, built)
        finally:
            try:
                connection.host.quit()
            except (OSError, smtplib.SMTPException):
                connection.host.close()

    @staticmethod
    def _send(connection: TimedConnection, built: OutgoingMessage) -> None:
        try:
            if not built.utf8_recipient:
                connection.send(built, envelope_from=sender_address())
                return
            # The server's extensions are known only once it has answered EHLO.
            connection.host.ehlo_or_helo_if_needed()
            if not connection.host.has_extn("smtputf8"):
                raise PermanentFailure("recipient needs SMTPUTF8, which the server lacks")
            connection.host.sendmail(
                sender_address(), [built.utf8_recipient], built.as_bytes(), built.mail_options
            )
        except (OSError, smtplib.SMTPException) as exc:
            raise classify(exc) from exc


class FileTransport:
    """Writes each message, byte for byte as it would go over SMTP, as an `.eml` file."""

    @contextmanager
    def session(self):
        directory = mail_directory()

        def send(message: Claimed, built: OutgoingMessage) -> None:
            name = file_name(message.id, message.kind, message.created_at)
            write_copy(directory, name, built.as_bytes())

        yield send


def transport_from_config():
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SmtpTransport(timeout=config["VIGIL_MAIL_TIMEOUT_SECONDS"])
    return FileTransport()
