"""Operator commands: `flask --app vigil seed`, `events import`, `mail ...`, `serve`."""

import logging
import os
import signal
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, run_simple

from . import attendees, outbox, retention, rosters, volunteers, worker
from .audit import head_seen_before, verify_chain
from .crypto import KEY_FILE, data_keys, new_key, write_instance_keys
from .event_files import EventFileError, import_events, seed
from .events import public_event
from .extensions import db
from .key_rotation import rotate
from .models import Event, Organiser
from .organisers import (
    AccountError,
    add_member,
    create_organiser,
    disable,
    find_organiser,
    set_password,
)
from .spreadsheets import write_csv

log = logging.getLogger(__name__)

events_cli = AppGroup("events", help="Manage events kept in files.")
mail_cli = AppGroup("mail", help="Deliver and inspect the outgoing mail.")


@events_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_command(path: Path):
    """Create or update (by slug) every event in a TOML event file."""
    try:
        results = import_events(path)
    except EventFileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    for result in results:
        click.echo(f"{result.action}: {result.slug}")


@click.command("seed")
@with_appcontext
def seed_command():
    """Load the 2017 Human Rights Day demonstration and a copy on the next 10 December."""
    results = seed(date.today())
    db.session.commit()
    for result in results:
        click.echo(f"{result.action}: {result.slug}")


def _log_to_stderr() -> None:
    """Long-running commands report what they do (ids and counts only, never addresses)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum, _frame):
        log.info("signal %s: stopping after the current message", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@mail_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def work_command(once: bool):
    """Deliver queued mail: over SMTP when MAIL_SERVER is set, else into instance/mail/."""
    if once:
        totals = worker.drain()
        click.echo(", ".join(f"{k}: {v}" for k, v in sorted(totals.items())) or "nothing due")
        return
    _log_to_stderr()
    worker.run_worker(_stop_on_signals(), current_app.config["VIGIL_MAIL_POLL_SECONDS"])


@mail_cli.command("status")
def status_command():
    """Counts by status and the age of the oldest unsent message (no addresses)."""
    report = outbox.status_report()
    for status, count in report.counts.items():
        click.echo(f"{status}: {count}")
    age = report.oldest_pending_age
    click.echo(f"oldest pending: {int(age.total_seconds())}s" if age else "oldest pending: none")


@mail_cli.command("failed")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100000))
def failed_command(limit: int):
    """Emails that will not be delivered, newest first, with the server's reason: a
    bounced or refused address. No address is printed: find the person from the
    event's attendee list, where their row says their emails bounce."""
    failed = outbox.failed_messages(limit)
    for message in failed:
        when = message.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{message.id}\t{when}\t{message.event_slug or '-'}\t{message.kind}\t"
            f"attempts {message.attempts}\t{message.reason or ''}"
        )
    click.echo(f"{len(failed)} undeliverable")


@mail_cli.command("send-reminders")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 14),
    default=None,
    help="Remind about events starting within this many hours (default 24).",
)
def send_reminders_command(hours: int | None):
    """Queue a reminder for each confirmed RSVP of events starting soon, and for each
    volunteer shift starting soon; never twice."""
    within = timedelta(hours=hours or current_app.config["VIGIL_REMINDER_HOURS"])
    count = attendees.send_reminders(within=within)
    shifts = volunteers.send_shift_reminders(within=within)
    db.session.commit()
    click.echo(f"reminders queued: {count}")
    click.echo(f"shift reminders queued: {shifts}")


class QuietHandler(WSGIRequestHandler):
    """Names no server or Python version in the Server header."""

    server_version = "Vigil"
    sys_version = ""


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int):
    """Serve Vigil, delivering mail from the same process when no MAIL_SERVER is set.

    This is the embedded set-up: every email lands in instance/mail/ as an .eml file
    within seconds. With MAIL_SERVER set, run `flask --app vigil mail work` beside it.
    """
    app = current_app._get_current_object()
    if "VIGIL_BASE_URL" not in os.environ:
        # Links in emails lead where this serves, not to the default port.
        everywhere = ("0.0.0.0", "::", "")  # noqa: S104 - compared with, not bound to
        shown = "127.0.0.1" if host in everywhere else host
        app.config["VIGIL_BASE_URL"] = f"http://{shown}:{port}"
    _log_to_stderr()
    stop = threading.Event()
    if not app.config.get("MAIL_SERVER"):

        def deliver():
            with app.app_context():
                worker.run_worker(stop, app.config["VIGIL_MAIL_POLL_SECONDS"])

        threading.Thread(target=deliver, name="mail-worker", daemon=True).start()
        click.echo(f"Emails are written to {Path(app.instance_path) / 'mail'}")
    click.echo(f"Vigil is serving on http://{host}:{port}/")
    try:
        run_simple(host, port, app, threaded=True, request_handler=QuietHandler)
    finally:
        stop.set()


volunteers_cli = AppGroup("volunteers", help="Volunteer rosters.")


@volunteers_cli.command("roster")
@click.argument("slug")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the roster as CSV (UTF-8 with BOM) to this file instead.",
)
def roster_command(slug: str, csv_path: Path | None):
    """Shift by shift, who is signed up; shifts with gaps first.

    The roster holds volunteers' names and phone numbers: print it only where it
    cannot be seen by others, and delete CSV copies after the event.
    """
    event = public_event(slug)
    if event is None:
        raise click.ClickException(f"no published event {slug!r}")
    rows = rosters.roster(event)
    if csv_path:
        with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
            write_csv(f, rosters.ROSTER_COLUMNS, rosters.roster_rows(rows))
        click.echo(f"{sum(len(r.people) for r in rows)} sign-ups written to {csv_path}")
        return
    for row in rows:
        shift = row.shift
        click.echo(
            f"{shift.role.name}, {shift.starts_at.astimezone(event.zone):%a %d %b %H:%M}: "
            f"{len(row.people)}/{shift.capacity}" + (f" ({row.left} needed)" if row.left else "")
        )
        for person in row.people:
            details = ", ".join(x for x in (person.languages, person.phone) if x)
            click.echo(
                f"  - {person.name or '(no name given)'}" + (f" ({details})" if details else "")
            )


organiser_cli = AppGroup("organiser", help="Organiser accounts.")


def _read_password() -> str:
    """From the terminal (asked twice, not shown), or the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


def _account(email: str):
    organiser = find_organiser(email)
    if organiser is None:
        raise click.ClickException("no such account")
    return organiser


@organiser_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organiser", "steward"]), required=True)
@click.option("--name", default="", help="Display name (defaults to the address).")
def organiser_create(email: str, role: str, name: str):
    """Create an account; the password is asked for, or read from stdin."""
    try:
        organiser = create_organiser(email, name, role, _read_password())
    except AccountError as exc:
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"created account {organiser.id} ({role})")


@organiser_cli.command("list")
def organiser_list():
    """Every account: id, role, whether active, display name, address."""
    for o in db.session.scalars(select(Organiser).order_by(Organiser.id)):
        state = "active" if o.active else "disabled"
        click.echo(f"{o.id}\t{o.role}\t{state}\t{o.display_name}\t{o.email}")


@organiser_cli.command("disable")
@click.argument("email")
def organiser_disable(email: str):
    """Disable an account and end its sessions."""
    disable(_account(email))
    db.session.commit()
    click.echo("disabled")


@organiser_cli.command("set-password")
@click.argument("email")
def organiser_set_password(email: str):
    """Set a new password (asked for, or read from stdin); ends every session."""
    try:
        set_password(_account(email), _read_password())
    except AccountError as exc:
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo("password changed")


@organiser_cli.command("add-member")
@click.argument("email")
@click.argument("slug")
def organiser_add_member(email: str, slug: str):
    """Make an organiser or steward a member of an event."""
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise click.ClickException(f"no event {slug!r}")
    add_member(_account(email), event)
    db.session.commit()
    click.echo("added")


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list the events that are due.")
@with_appcontext
def purge_command(dry_run: bool):
    """Delete attendees' and volunteers' details of events whose retention period is over
    (VIGIL_RETENTION_DAYS after the end, or the event's own), keeping the numbers."""
    days = current_app.config["VIGIL_RETENTION_DAYS"]
    if dry_run:
        for event in retention.due_events(days):
            click.echo(f"due: {event.slug}")
        db.session.rollback()
        return
    done = worker.purge_retained(days)
    for purged in done:
        click.echo(
            f"purged {purged.slug}: {purged.rsvps} RSVPs, {purged.signups} volunteers, "
            f"{len(purged.messages)} emails"
        )
    click.echo(f"{len(done)} events purged")


keys_cli = AppGroup("keys", help="The data key that encrypts personal data at rest.")


@keys_cli.command("generate")
def keys_generate():
    """Print a new random data key (base64) for VIGIL_DATA_KEY."""
    click.echo(new_key())


@keys_cli.command("rotate")
def keys_rotate():
    """Re-encrypt every stored personal value under the current key.

    With VIGIL_DATA_KEY: put the new key first (VIGIL_DATA_KEY=new,old), run this,
    then drop the old key. Embedded set-up (instance/data_key): a new key is made,
    everything re-encrypted, and the old key removed from the file.
    """
    app = current_app._get_current_object()
    from_file = not app.config.get("VIGIL_DATA_KEY")
    if from_file:
        current = new_key()
        old = (Path(app.instance_path) / KEY_FILE).read_text().split()
        write_instance_keys(app, [current, *old])  # both, until every row is rewritten
    report = rotate(data_keys())
    db.session.commit()
    if from_file:
        write_instance_keys(app, [current])
        click.echo("instance/data_key now holds only the new key")
    else:
        click.echo("every row is under the first key of VIGIL_DATA_KEY: drop the others")
    click.echo(f"re-encrypted {report.values} values in {report.rows} rows")


audit_cli = AppGroup("audit", help="The organisers' audit trail.")


@audit_cli.command("verify")
@click.option(
    "--head",
    "kept_head",
    metavar="HASH",
    help="A head printed or emailed earlier: fail unless it is still in the chain.",
)
def audit_verify(kept_head: str | None):
    """Check the audit trail's keyed hash chain; exit 1 at the first row that was
    changed, removed or slipped in, or when a head kept earlier (--head) is gone,
    which is what rows cut off the end look like. The mail worker emails the head
    to the admins daily."""
    report = verify_chain()
    if report.broken_at is not None:
        click.echo(
            f"audit chain BROKEN at entry {report.broken_at} "
            f"(after {report.entries} intact entries)",
            err=True,
        )
        sys.exit(1)
    if kept_head and not head_seen_before(kept_head.strip()):
        click.echo(
            "audit chain BROKEN: the head you kept is not in it (entries were cut off "
            "the end, or the chain was rebuilt)",
            err=True,
        )
        sys.exit(1)
    click.echo(f"audit chain intact: {report.entries} entries, head {report.head}")


def init_cli(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(purge_command)
    app.cli.add_command(events_cli)
    app.cli.add_command(organiser_cli)
    app.cli.add_command(volunteers_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(serve_command)
