"""The worker: delivers the outbox, and runs the domain's housekeeping on a schedule.

It sits above the domain: it claims due messages and sends them (`mail_transports`),
erases RSVPs and sign-ups nobody confirmed in time, every minute, and purges
people's details once a day (`retention.purge`), and commits what those did. No
domain module imports it. `flask --app vigil mail work` runs it; in the embedded
set-up `flask --app vigil serve` runs it in a thread.
"""

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from . import audit, emails, outbox, people, retention, rsvps, volunteers
from .database import begin_read_only, flush_deleted_data
from .extensions import db
from .logs import describe_exception
from .mail import build_message
from .mail_transports import PermanentFailure, TemporaryFailure, transport_from_config

log = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 24 * 3600
EXPIRY_INTERVAL_SECONDS = 60


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


def render_batch(batch: list[outbox.Claimed]) -> tuple[list[outbox.Claimed], list[outbox.Outcome]]:
    """Render each claimed message with its own private link: (ready, refused).

    Rendering reads only; the links are stored afterwards in one short write, so
    the database write lock is never held while a template renders. A message that
    cannot be rendered, or whose person was erased meanwhile, fails alone.
    """
    ready, refused, rendered = [], [], []
    begin_read_only()
    for message in batch:
        if message.template is None:  # queued already rendered
            ready.append(message)
            continue
        try:
            rendered.append(emails.render(message))
        except Exception as exc:
            db.session.rollback()
            begin_read_only()
            refused.append(outbox.Outcome(message, "failed", _cannot_render(exc)))
    db.session.rollback()
    try:
        people.store_links([link for _, links in rendered for link in links])
        db.session.commit()
    except IntegrityError:  # someone was erased since: store each that still can be
        db.session.rollback()
        for message, links in rendered:
            try:
                people.store_links(links)
                db.session.commit()
            except IntegrityError as exc:
                db.session.rollback()
                refused.append(outbox.Outcome(message, "failed", _cannot_render(exc)))
            else:
                ready.append(message)
    else:
        ready.extend(message for message, _ in rendered)
    return ready, refused


def _cannot_render(exc: Exception) -> str:
    return f"cannot be rendered: {type(exc).__name__}"


def deliver_batch(transport, settings: WorkerSettings) -> Counter:
    """Claim one batch, render it, and deliver it over one connection, recording each
    message's outcome as soon as it is known.

    Each outcome is its own short transaction, written between sends, so no
    database lock is held while the mail server is talking, and a worker killed
    half-way sends again at most the one message it was sending. Returns counts
    by outcome.
    """
    batch = outbox.claim_due(settings.batch_size, settings.lease, settings.retry.max_attempts)
    db.session.commit()  # the claim stands before anything is sent
    if not batch:
        return Counter()
    # Stop sending while at least one send's worth of lease remains, so no other
    # worker can reclaim a message this one is still delivering.
    lease = settings.lease.total_seconds()
    deadline = time.monotonic() + lease - min(2 * settings.timeout, lease / 2)
    ready, refused = render_batch(batch)
    outcomes: list[outbox.Outcome] = []

    def record(*these: outbox.Outcome) -> None:
        if these:
            outbox.settle(list(these), settings.retry)
            db.session.commit()
            outcomes.extend(these)

    record(*refused)
    done = 0  # messages of `ready` with an outcome
    try:
        with transport.session() as send:
            for message in ready:
                if time.monotonic() > deadline:
                    break  # the lease is running out: leave the rest to the next claim
                try:
                    send(message, build_message(message))
                except PermanentFailure as exc:
                    outcome = outbox.Outcome(message, "failed", str(exc))
                except TemporaryFailure as exc:
                    outcome = outbox.Outcome(message, "retry", str(exc))
                except Exception as exc:  # a message that cannot be built or encoded
                    outcome = outbox.Outcome(message, "failed", f"unexpected {type(exc).__name__}")
                else:
                    outcome = outbox.Outcome(message, "sent")
                record(outcome)
                done += 1
    except TemporaryFailure as exc:  # no connection at all: the rest of the batch waits
        log.warning("mail server unavailable (%s)", exc)
        record(*(outbox.Outcome(m, "retry", str(exc)) for m in ready[done:]))
        done = len(ready)
    record(*(outbox.Outcome(m, "released") for m in ready[done:]))
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


def release_unconfirmed() -> int:
    """Erase RSVPs and volunteer sign-ups nobody confirmed in time, and commit."""
    released = rsvps.expire_unconfirmed() + volunteers.expire_unconfirmed()
    db.session.commit()
    if released:
        log.info("released %d unconfirmed rsvps and sign-ups", released)
    return released


def purge_retained(default_days: int, now: datetime | None = None) -> list[retention.Purged]:
    """Purge every event whose retention period is over, and commit; the mail file
    copies go with the commit, and on SQLite the deleted rows leave the write-ahead log."""
    done = retention.purge(default_days, now)
    db.session.commit()
    if done:
        flush_deleted_data()
        log.info("retention: purged %d events", len(done))
    return done


def send_audit_head() -> int:
    """Queue today's audit-trail head to every admin (once a day), and commit."""
    queued = audit.queue_head_for_admins()
    db.session.commit()
    return queued


def run_worker(stop: threading.Event, poll_seconds: float) -> None:
    """Deliver until `stop` is set; a stop never interrupts a message half-way.

    Retention runs with the worker, so it never depends on someone remembering.
    """
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
                release_unconfirmed()
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
                purge_retained(current_app.config["VIGIL_RETENTION_DAYS"])
                send_audit_head()
        except Exception as exc:  # keep the worker alive; where it failed goes to the log
            log.error("mail worker batch failed: %s", describe_exception(exc))
            db.session.rollback()
        finally:
            db.session.remove()
        stop.wait(poll_seconds)
    log.info("mail worker stopped")
