"""The outbox and its worker against a real SMTP server on loopback."""

import re
import time
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from vigil import rsvps
from vigil.extensions import db
from vigil.models import Event, OutboxMessage, OutboxStatus, Rsvp
from vigil.worker import drain


def queue_rsvps(app, event, count: int, prefix: str = "p") -> list[str]:
    addresses = [f"{prefix}{i}@example.org" for i in range(count)]
    with app.app_context():
        stored = db.session.get(Event, event.id)
        for address in addresses:
            rsvps.create_rsvp(stored, email=address)
        db.session.commit()
    return addresses


def outbox_rows(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def drain_now(app):
    with app.app_context():
        return drain()


def test_confirmation_arrives_over_smtp_with_every_part_a_mail_client_needs(
    smtp_app, smtp, make_event
):
    event = make_event(title="Vigil for Liu Xiaobo 刘晓波")  # no limit: a place at once
    queue_rsvps(smtp_app, event, 1)
    assert drain_now(smtp_app) == {"sent": 1}
    (msg,) = smtp.handler.messages
    assert msg["To"] == "p0@example.org"
    assert msg["Subject"] == "You have a place: Vigil for Liu Xiaobo 刘晓波"
    assert msg["From"] == "Vigil <vigil@localhost>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].startswith("<") and msg["Date"]
    assert msg.get_content_type() == "multipart/mixed"
    alternative = msg.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    text = msg.get_body(("plain",)).get_content()
    assert "Nearest tubes: Great Portland Street" in text
    assert "GMT" in text or "BST" in text
    assert "/rsvp/" in text
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_param("charset") == "utf-8"
    assert attachment.get_filename() == f"{event.slug}.ics"
    cal = icalendar.Calendar.from_ical(attachment.get_content())
    assert cal["METHOD"] == "PUBLISH"
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Vigil for Liu Xiaobo 刘晓波"
    assert "ORGANIZER" not in vevent and "ATTENDEE" not in vevent
    assert vevent.decoded("DTSTART") == event.starts_at


@pytest.mark.parametrize(
    "org_name, raw",
    [
        ("Vigil", b"From: Vigil <vigil@localhost>"),  # plain, as a person would write it
        ("人權, Vigil", b"From: =?utf-8?b?"),  # one encoded name, so the comma stays in it
    ],
)
def test_the_sender_is_one_address_under_the_organisation_name(
    smtp_app, smtp, make_event, org_name, raw
):
    smtp_app.config["VIGIL_ORG_NAME"] = org_name
    queue_rsvps(smtp_app, make_event(), 1)
    assert drain_now(smtp_app) == {"sent": 1}
    (msg,) = smtp.handler.messages
    (sender,) = msg["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (org_name, "vigil@localhost")
    (data,) = smtp.handler.raw
    assert raw in data


def test_manage_link_in_the_email_resolves(smtp_app, smtp, make_event):
    import re

    event = make_event()
    queue_rsvps(smtp_app, event, 1)
    drain_now(smtp_app)
    text = smtp.handler.messages[0].get_body(("plain",)).get_content()
    path = re.search(r"http://vigil\.test(/rsvp/\S+)", text).group(1)
    page = smtp_app.test_client().get(path)
    assert page.status_code == 200
    assert "You have a place." in page.get_data(as_text=True)
    event_path = re.search(r"http://vigil\.test(/events/\S+)", text).group(1)
    assert smtp_app.test_client().get(event_path).status_code == 200


def test_sent_messages_keep_only_metadata(smtp_app, smtp, make_event):
    event = make_event()
    queue_rsvps(smtp_app, event, 2)
    drain_now(smtp_app)
    for row in outbox_rows(smtp_app):
        assert row.status == OutboxStatus.SENT and row.sent_at is not None
        assert row.recipient is None and row.body_text is None and row.body_html is None
        assert row.subject is None and row.calendar is None
        assert row.kind == "rsvp_confirmed"


def test_server_down_then_up_delivers_everything_once(app, make_event):
    from aiosmtpd.controller import Controller
    from conftest import SmtpRecorder, free_port

    from vigil.extensions import mail

    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, VIGIL_MAIL_TIMEOUT_SECONDS=2)
    mail.init_app(app)
    event = make_event()
    addresses = queue_rsvps(app, event, 12)
    assert drain_now(app) == {"retry": 12}  # nothing listens: every message waits
    rows = outbox_rows(app)
    assert {r.status for r in rows} == {"pending"}
    assert all(r.last_error == "ConnectionRefusedError" for r in rows)

    handler = SmtpRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        time.sleep(0.2)  # past the first back-off
        totals = drain_now(app)
        assert totals["sent"] == 12
        assert drain_now(app) == {}
        assert sorted(handler.recipients()) == sorted(addresses)
    finally:
        controller.stop()


def test_451_is_retried_and_550_fails_without_blocking_others(smtp_app, smtp, make_event):
    event = make_event()
    smtp.handler.plan = {"p1@example.org": [451, 250], "p2@example.org": [550]}
    queue_rsvps(smtp_app, event, 4)
    first = drain_now(smtp_app)
    assert first == {"sent": 2, "retry": 1, "failed": 1}
    time.sleep(0.2)
    assert drain_now(smtp_app) == {"sent": 1}
    assert sorted(smtp.handler.recipients()) == [
        "p0@example.org",
        "p1@example.org",
        "p3@example.org",
    ]
    rows = {r.id: r for r in outbox_rows(smtp_app)}
    failed = [r for r in rows.values() if r.status == OutboxStatus.FAILED]
    assert len(failed) == 1
    assert failed[0].last_error == "SMTPRecipientsRefused 550"
    assert failed[0].recipient is None  # a failed message keeps no address either
    retried = [r for r in rows.values() if r.attempts == 2]
    assert len(retried) == 1 and retried[0].status == OutboxStatus.SENT
    assert drain_now(smtp_app) == {}  # the failure is not retried forever


def test_undeliverable_emails_are_listed_and_shown_to_the_organisers(
    smtp_app, smtp, make_event, signed_in
):
    """A bounce was only a count in `mail status`: now `mail failed` lists it with the
    reason (no address), the dashboard counts each event's, and the attendee list
    marks the person whose address bounces."""
    event = make_event()
    smtp.handler.plan = {"p1@example.org": [550]}
    queue_rsvps(smtp_app, event, 3)
    assert drain_now(smtp_app) == {"sent": 2, "failed": 1}
    listed = smtp_app.test_cli_runner().invoke(args=["mail", "failed"])
    assert listed.exit_code == 0
    assert f"\t{event.slug}\trsvp_confirmed\tattempts 1\tSMTPRecipientsRefused 550" in listed.output
    assert "1 undeliverable" in listed.output and "@example.org" not in listed.output
    client = signed_in("organiser", [event])
    assert "<dt>Emails undelivered</dt><dd>1</dd>" in client.get("/organiser/").text
    attendees = client.get(f"/organiser/events/{event.slug}/attendees").text
    assert attendees.count("emails to it bounce") == 1
    row = next(r for r in attendees.split("<tr>") if "emails to it bounce" in r)
    assert "p1@example.org" in row


def test_temporary_failures_give_up_after_the_attempt_limit(smtp_app, smtp, make_event):
    smtp_app.config.update(VIGIL_MAIL_MAX_ATTEMPTS=3, VIGIL_MAIL_RETRY_BASE_SECONDS=0.01)
    event = make_event()
    smtp.handler.plan = {"p0@example.org": [451] * 10}
    queue_rsvps(smtp_app, event, 1)
    for _ in range(5):
        drain_now(smtp_app)
        time.sleep(0.05)
    (row,) = outbox_rows(smtp_app)
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 3
    assert row.last_error.startswith("gave up after 3 attempts")


def test_backoff_grows_exponentially_with_jitter():
    from vigil import outbox

    retry = outbox.Retry(base_seconds=30, cap_seconds=3600, max_attempts=20)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    delays = []
    for attempts in (1, 2, 3, 8, 15):
        claimed = outbox.Claimed(
            id=0,
            claim="x",
            kind="k",
            attempts=attempts,
            recipient="",
            subject="",
            body_text="",
            body_html="",
            calendar=None,
            calendar_filename=None,
            unsubscribe_url=None,
            message_id="",
            created_at=now,
        )
        values = outbox._outcome_values(outbox.Outcome(claimed, "retry", "x"), retry, now)
        assert values["status"] == "pending"
        delays.append((values["next_attempt_at"] - now).total_seconds())
    assert 22.5 <= delays[0] <= 37.5
    assert 45 <= delays[1] <= 75
    assert 90 <= delays[2] <= 150
    assert 2700 <= delays[3] <= 4500 and 2700 <= delays[4] <= 4500  # capped at an hour


def test_a_rolled_back_rsvp_queues_nothing_and_a_committed_one_always_does(app, make_event):
    event = make_event()
    with app.app_context():
        stored = db.session.get(Event, event.id)
        rsvps.create_rsvp(stored, email="gone@example.org")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        rsvps.create_rsvp(db.session.get(Event, event.id), email="kept@example.org")
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_dedupe_key_is_unique_in_the_database(ctx, make_event):
    from vigil import outbox

    values = dict(
        kind="k",
        dedupe_key="same",
        recipient="a@b.org",
        subject="s",
        body_text="t",
        body_html="h",
        message_id="<m@x>",
    )
    assert outbox.add_message(**values) is True
    assert outbox.add_message(**values) is False
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_lease_that_ran_out_makes_the_message_due_again(ctx, make_event):
    from vigil import outbox

    event = make_event()
    queue_rsvps(ctx, event, 1)
    (first,) = outbox.claim_due(10, timedelta(seconds=60))
    assert outbox.claim_due(10, timedelta(seconds=60)) == []  # still leased
    later = datetime.now(UTC) + timedelta(seconds=61)
    (again,) = outbox.claim_due(10, timedelta(seconds=60), now=later)
    assert again.id == first.id and again.attempts == 2 and again.claim != first.claim
    retry = outbox.Retry(1, 1, 5)
    outbox.settle([outbox.Outcome(first, "sent")], retry)  # a late report no longer counts
    db.session.commit()
    row = db.session.get(OutboxMessage, first.id)
    assert row.status == OutboxStatus.SENDING


@pytest.mark.parametrize("delivered", [False, True])
def test_mail_status_counts_without_addresses(app, runner, make_event, delivered):
    event = make_event()
    queue_rsvps(app, event, 3, prefix="secret")
    if delivered:
        drain_now(app)
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0
    assert "secret" not in result.output and "example.org" not in result.output
    if delivered:
        assert "sent: 3" in result.output and "oldest pending: none" in result.output
    else:
        assert "pending: 3" in result.output
        assert re.search(r"oldest pending: \d+s", result.output)


def test_mail_work_once_writes_eml_files_in_the_embedded_setup(app, runner, make_event):
    from pathlib import Path

    event = make_event()
    queue_rsvps(app, event, 2)
    result = runner.invoke(args=["mail", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent: 2" in result.output
    files = sorted((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(files) == 2
    assert not list((Path(app.instance_path) / "mail").glob(".*"))  # no partial files left


@pytest.mark.parametrize("server_speaks_utf8", [True, False])
def test_an_internationalised_address_never_blocks_the_batch(app, make_event, server_speaks_utf8):
    from aiosmtpd.controller import Controller
    from conftest import SmtpRecorder, free_port

    from vigil.extensions import mail

    handler = SmtpRecorder()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=server_speaks_utf8
    )
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
        mail.init_app(app)
        event = make_event()
        with app.app_context():
            stored = db.session.get(Event, event.id)
            for address in ("a@example.org", "josé@example.org", "c@example.org"):
                rsvps.create_rsvp(stored, email=address)
            db.session.commit()
        totals = drain_now(app)
        received = sorted(handler.recipients())
        if server_speaks_utf8:
            assert totals == {"sent": 3}
            assert received == ["a@example.org", "c@example.org", "josé@example.org"]
        else:
            assert totals == {"sent": 2, "failed": 1}
            assert received == ["a@example.org", "c@example.org"]
            failed = [r for r in outbox_rows(app) if r.status == OutboxStatus.FAILED]
            assert failed[0].last_error.startswith("recipient needs SMTPUTF8")
        assert drain_now(app) == {}  # nothing stuck, nothing sent twice
    finally:
        controller.stop()


def test_a_message_that_cannot_be_built_fails_alone(smtp_app, smtp, make_event, monkeypatch):
    from vigil import worker

    event = make_event()
    queue_rsvps(smtp_app, event, 3)
    real = worker.build_message

    def broken_for_p1(message):
        if message.recipient == "p1@example.org":
            raise ValueError("cannot encode")
        return real(message)

    monkeypatch.setattr(worker, "build_message", broken_for_p1)
    assert drain_now(smtp_app) == {"sent": 2, "failed": 1}
    failed = [r for r in outbox_rows(smtp_app) if r.status == OutboxStatus.FAILED]
    assert failed[0].last_error == "unexpected ValueError"


def test_a_batch_that_would_outlast_its_lease_stops_and_releases_the_rest(
    smtp_app, smtp, make_event
):
    smtp_app.config.update(
        VIGIL_MAIL_LEASE_SECONDS=1.5, VIGIL_MAIL_TIMEOUT_SECONDS=0.4, VIGIL_MAIL_BATCH_SIZE=8
    )
    smtp.handler.delay = 0.25
    event = make_event()
    addresses = queue_rsvps(smtp_app, event, 8)
    with smtp_app.app_context():
        from vigil.mail_transports import transport_from_config
        from vigil.worker import WorkerSettings, deliver_batch

        first = deliver_batch(transport_from_config(), WorkerSettings.from_config())
    assert 1 <= first["sent"] < 8, first
    released = [r for r in outbox_rows(smtp_app) if r.status == OutboxStatus.PENDING]
    assert len(released) == 8 - first["sent"]
    assert all(r.attempts == 0 and r.claimed_by is None for r in released)
    smtp.handler.delay = 0
    drain_now(smtp_app)
    assert sorted(smtp.handler.recipients()) == sorted(addresses)  # each exactly once


def test_a_message_whose_workers_keep_dying_is_given_up(ctx, make_event):
    from vigil import outbox

    event = make_event()
    queue_rsvps(ctx, event, 1)
    now = datetime.now(UTC)
    for attempt in range(3):
        later = now + timedelta(seconds=61 * attempt)
        assert len(outbox.claim_due(5, timedelta(seconds=60), max_attempts=3, now=later)) == 1
    assert (
        outbox.claim_due(
            5, timedelta(seconds=60), max_attempts=3, now=now + timedelta(seconds=61 * 3)
        )
        == []
    )
    (row,) = db.session.scalars(select(OutboxMessage)).all()
    assert row.status == OutboxStatus.FAILED and row.recipient is None


def test_an_internationalised_address_first_in_the_batch_is_sent(app, make_event):
    """The server's SMTPUTF8 is known only after EHLO, which no message has sent yet."""
    from aiosmtpd.controller import Controller
    from conftest import SmtpRecorder, free_port

    from vigil.extensions import mail

    handler = SmtpRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=True)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
        mail.init_app(app)
        event = make_event()
        with app.app_context():
            rsvps.create_rsvp(db.session.get(Event, event.id), email="josé@example.org")
            db.session.commit()
        assert drain_now(app) == {"sent": 1}
        assert handler.recipients() == ["josé@example.org"]
    finally:
        controller.stop()


@pytest.mark.parametrize(("code", "outcome"), [(451, "retry"), (550, "failed")])
def test_a_refused_sender_is_retried_on_4xx_and_failed_on_5xx(
    smtp_app, smtp, make_event, code, outcome
):
    async def refuse_sender(server, session, envelope, address, mail_options):
        return f"{code} sender refused"

    smtp.handler.handle_MAIL = refuse_sender
    queue_rsvps(smtp_app, make_event(), 1)
    assert drain_now(smtp_app) == {outcome: 1}
    (row,) = outbox_rows(smtp_app)
    assert row.last_error == f"SMTPSenderRefused {code}"


def test_a_message_whose_person_was_erased_after_the_claim_fails_alone(ctx, make_event):
    """The claim is committed before rendering: an erasure can come in between."""
    from vigil import outbox, people, worker

    event = make_event()
    queue_rsvps(ctx, event, 2)
    batch = outbox.claim_due(10, timedelta(seconds=60))
    db.session.commit()
    gone = db.session.scalars(select(Rsvp).order_by(Rsvp.id)).first()
    people.erase(gone)
    db.session.commit()
    ready, refused = worker.render_batch(batch)
    assert [m.rsvp_id for m in ready] == [gone.id + 1]
    assert "/rsvp/" in ready[0].body_text
    assert [(o.message.rsvp_id, o.result) for o in refused] == [(gone.id, "failed")]
