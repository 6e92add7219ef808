"""The mail worker: claims due outbox messages and delivers them, over SMTP or into files.

SMTP goes through Flask-Mail's connection, one connection per batch. Without a
MAIL_SERVER, the embedded set-up writes each message as an `.eml` file into
`instance/mail/` instead, so every email can be read without a mail server.
"""

import logging
import os
import smtplib
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_mail import Connection

from . import outbox
from .extensions import db
from .logs import describe_exception
from .mail import as_smtp_bytes, sender_address, to_mime
from .outbox import Claimed

log = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Worth trying again later: the server is away, busy, or answered 4xx."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx for the recipient)."""


def _reason(exc: BaseException) -> str:
    """Class and SMTP code only: exception texts can hold the recipient's address."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({c for c, _ in exc.recipients.values()})
        code = codes[0] if codes else None
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def classify(exc: BaseException) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        if codes and all(500 <= c < 600 for c in codes):
            return PermanentFailure(_reason(exc))
        return TemporaryFailure(_reason(exc))
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(
        exc, smtplib.SMTPSenderRefused
    ):
        if 500 <= exc.smtp_code < 600:
            return PermanentFailure(_reason(exc))
    return TemporaryFailure(_reason(exc))


class TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a hung server cannot stall the worker."""

    timeout = 30.0

    def configure_host(self):
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=self.timeout)
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
        state = current_app.extensions["mail"]
        connection = TimedConnection(state)
        connection.timeout = self.timeout
        try:
            connection.host = connection.configure_host()
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(_reason(exc)) from exc
        try:
            yield self._sender(connection)
        finally:
            try:
                connection.host.quit()
            except (OSError, smtplib.SMTPException):
                connection.host.close()

    @staticmethod
    def _sender(connection: Connection):
        def send(message: Claimed) -> None:
            options = []
            if not message.recipient.isascii():
                # An internationalised address needs a server that speaks SMTPUTF8.
                if not connection.host.has_extn("smtputf8"):
                    raise PermanentFailure("recipient needs SMTPUTF8, which the server lacks")
                options = ["SMTPUTF8"]
            try:
                connection.host.sendmail(
                    sender_address(),
                    [message.recipient],
                    as_smtp_bytes(to_mime(message), utf8=bool(options)),
                    mail_options=options,
                )
            except (OSError, smtplib.SMTPException) as exc:
                raise classify(exc) from exc

        return send


class FileTransport:
    """Writes `<id>-<kind>.eml` files; a file is complete or absent, never half-written."""

    def __init__(self, directory: Path):
        self.directory = directory

    @contextmanager
    def session(self):
        self.directory.mkdir(parents=True, exist_ok=True)

        def send(message: Claimed) -> None:
            name = f"{message.created_at:%Y%m%dT%H%M%S}-{message.id:08d}-{message.kind}.eml"
            # The id in the name lets erasure find and delete the copy later.
            partial = self.directory / f".{name}.part"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(to_mime(message).as_bytes())
            os.replace(partial, self.directory / name)

        yield send


def remove_file_copies(message_ids: list[int]) -> int:
    """Delete the embedded set-up's .eml copies of these messages (erasure)."""
    wanted = {f"{message_id:08d}" for message_id in message_ids}
    directory = Path(current_app.instance_path) / "mail"
    if not wanted or not directory.exists():
        return 0
    removed = 0
    for path in directory.glob("*.eml"):  # one pass over the folder, however many ids
        parts = path.name.split("-", 2)
        if len(parts) == 3 and parts[1] in wanted:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def transport_from_config():
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SmtpTransport(timeout=config["VIGIL_MAIL_TIMEOUT_SECONDS"])
    return FileTransport(Path(current_app.instance_path) / "mail")


@dataclass
class WorkerSettings:
    batch_size: int
    lease: timedelta
    retry: outbox.Retry
    timeout: float

    @classmethod
    def from_config(cls) -> "WorkerSettings":
        c = current_app.config
        return cls(
            batch_size=c["VIGIL_MAIL_BATCH_SIZE"],
            timeout=c["VIGIL_MAIL_TIMEOUT_SECONDS"],
            lease=timedelta(seconds=c["VIGIL_MAIL_LEASE_SECONDS"]),
            retry=outbox.Retry(
                base_seconds=c["VIGIL_MAIL_RETRY_BASE_SECONDS"],
                cap_seconds=c["VIGIL_MAIL_RETRY_CAP_SECONDS"],
                max_attempts=c["VIGIL_MAIL_MAX_ATTEMPTS"],
            ),
        )


def deliver_batch(transport, settings: WorkerSettings) -> Counter:
    """Claim one batch, deliver it over one connection, then record every outcome at once.

    Outcomes are written in one short transaction after sending, so no database lock
    is held while the mail server is talking. Returns counts by outcome.
    """
    batch = outbox.claim_due(settings.batch_size, settings.lease, settings.retry.max_attempts)
    if not batch:
        return Counter()
    # Stop sending while at least one send's worth of lease remains, so no other
    # worker can reclaim a message this one is still delivering.
    lease = settings.lease.total_seconds()
    deadline = time.monotonic() + lease - min(2 * settings.timeout, lease / 2)
    outcomes: list[outbox.Outcome] = []
    try:
        with transport.session() as send:
            for message in batch:
                if time.monotonic() > deadline:
                    break  # the lease is running out: leave the rest to the next claim
                try:
                    send(message)
                except PermanentFailure as exc:
                    outcomes.append(outbox.Outcome(message, "failed", str(exc)))
                except TemporaryFailure as exc:
                    outcomes.append(outbox.Outcome(message, "retry", str(exc)))
                except Exception as exc:  # a message that cannot be built or encoded
                    reason = f"unexpected {type(exc).__name__}"
                    outcomes.append(outbox.Outcome(message, "failed", reason))
                else:
                    outcomes.append(outbox.Outcome(message, "sent"))
    except TemporaryFailure as exc:  # no connection at all: the rest of the batch waits
        log.warning("mail server unavailable (%s)", exc)
        outcomes += [outbox.Outcome(m, "retry", str(exc)) for m in batch[len(outcomes) :]]
    outcomes += [outbox.Outcome(m, "released") for m in batch[len(outcomes) :]]
    outbox.settle(outcomes, settings.retry)
    db.session.commit()
    for outcome in outcomes:
        if outcome.result in ("failed", "retry"):
            log.info(
                "mail %s id=%s kind=%s reason=%s",
                "failed" if outcome.result == "failed" else "deferred",
                outcome.message.id,
                outcome.message.kind,
                outcome.reason,
            )
    return Counter(o.result for o in outcomes if o.result != "released")


def drain(transport=None, settings: WorkerSettings | None = None) -> Counter:
    """Deliver everything that is due now, batch after batch, then return the totals."""
    transport = transport or transport_from_config()
    settings = settings or WorkerSettings.from_config()
    totals: Counter = Counter()
    while True:
        outcomes = deliver_batch(transport, settings)
        if not outcomes:
            return totals
        totals.update(outcomes)
        if not outcomes["sent"] and not outcomes["failed"]:
            return totals  # only deferrals: wait for their next attempt time


PURGE_INTERVAL_SECONDS = 24 * 3600
EXPIRY_INTERVAL_SECONDS = 60


def _release_unconfirmed() -> None:
    from .rsvps import expire_unconfirmed  # rsvps deletes mail file copies through here

    released = expire_unconfirmed()
    db.session.commit()
    if released:
        log.info("released %d unconfirmed rsvps", released)


def _purge() -> None:
    """Retention runs with the worker, so it never depends on someone remembering."""
    from .retention import purge  # retention deletes mail file copies through this module

    done = purge(current_app.config["VIGIL_RETENTION_DAYS"])
    if done:
        log.info("retention: purged %d events", len(done))


def run_worker(stop: threading.Event, poll_seconds: float) -> None:
    """Deliver until `stop` is set; a stop never interrupts a message half-way."""
    transport = transport_from_config()
    settings = WorkerSettings.from_config()
    log.info("mail worker started (%s)", type(transport).__name__)
    next_purge = time.monotonic()  # at start, then once a day
    next_expiry = time.monotonic()  # at start, then every minute
    while not stop.is_set():
        try:
            totals = drain(transport, settings)
            if totals:
                log.info("mail worker: %s", dict(totals))
            if time.monotonic() >= next_expiry:
                next_expiry = time.monotonic() + EXPIRY_INTERVAL_SECONDS
                _release_unconfirmed()
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
                _purge()
        except Exception as exc:  # keep the worker alive; where it failed goes to the log
            log.error("mail worker batch failed: %s", describe_exception(exc))
            db.session.rollback()
        finally:
            db.session.remove()
        stop.wait(poll_seconds)
    log.info("mail worker stopped")
