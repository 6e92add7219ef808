"""Retention and erasure: details go when they should, numbers stay, and a dump of the
database holds nothing of the people afterwards."""

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

from helpers import confirmed_sign_up, mail_dir, sent_mail
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from vigil import retention, rsvps, worker
from vigil.extensions import db
from vigil.models import (
    AuditEntry,
    Event,
    OutboxMessage,
    Rsvp,
    RsvpToken,
    ShiftAssignment,
    VolunteerSignup,
    utcnow,
)
from vigil.people import email_lookup

PEOPLE = {
    "email": "wang.private@example.org",
    "name": "Wang Secretname",
    "access": "Needs a quiet corner",
    "volunteer": "lin.hidden@example.org",
    "phone": "+44 7700 900123",
}


def ended(make_event, days_ago: float, **kw) -> Event:
    end = utcnow() - timedelta(days=days_ago)
    return make_event(starts_at=end - timedelta(hours=2), ends_at=end, **kw)


def fill(app, event, make_roles, suffix=""):
    """People who RSVPed and volunteered through the real flows, and their emails sent."""
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        # the event is over now, so put the people in as they were before it ended
        rsvp = Rsvp(
            event_id=stored.id,
            email=f"{suffix}{PEOPLE['email']}",
            email_key=email_lookup(f"{suffix}{PEOPLE['email']}"),
            name=PEOPLE["name"],
            accessibility=PEOPLE["access"],
            status="confirmed",
            guests=1,
            checked_in_at=stored.ends_at,
        )
        db.session.add(rsvp)
        db.session.flush()
        from vigil import emails

        emails.queue_rsvp_received(rsvp)
        db.session.commit()
    return leaflets


def count(app, model, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query)


def test_purge_deletes_details_after_the_period_and_keeps_the_numbers(
    app, make_event, make_roles, runner
):
    old = ended(make_event, 31)
    recent = ended(make_event, 29)
    fill(app, old, make_roles)
    fill(app, recent, make_roles, suffix="r.")
    assert len(sent_mail(app)) == 2  # .eml copies in the instance folder
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.exception
    assert result.output == f"due: {old.slug}\n"
    assert count(app, Rsvp) == 2
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert f"purged {old.slug}: 1 RSVPs" in result.output and "1 events purged" in result.output
    assert count(app, Rsvp, event_id=old.id) == 0
    assert count(app, Rsvp, event_id=recent.id) == 1
    assert count(app, OutboxMessage, event_id=old.id) == 0
    assert count(app, RsvpToken) == 1  # only the recent RSVP's link is left
    files = sorted(p.name for p in mail_dir(app).glob("*.eml"))
    assert len(files) == 1
    with app.app_context():
        kept = db.session.get(Event, old.id)
        assert kept.purged_at is not None
        assert kept.purged_counts == {
            "confirmed": 1,
            "waitlisted": 0,
            "cancelled": 0,
            "guests": 1,
            "checked_in": 1,
            "volunteers": 0,
        }
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "purge personal data")
        ).one()
        assert (entry.event_id, entry.rows, entry.organiser_id) == (old.id, 1, None)
    assert runner.invoke(args=["purge"]).output == "0 events purged\n"  # nothing twice


def test_each_event_can_keep_details_for_longer_or_shorter(ctx, make_event, make_rsvp):
    short = ended(make_event, 0.1, retention_days=0)
    long = ended(make_event, 40, retention_days=90)
    make_rsvp(short)
    make_rsvp(long)
    done = retention.purge(default_days=30)
    assert [p.slug for p in done] == [short.slug]


def test_volunteers_go_with_their_shifts_and_links(app, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id),
            email=PEOPLE["volunteer"],
            shift_ids=[leaflets],
            phone=PEOPLE["phone"],
        )
        db.session.commit()
    with app.app_context():
        done = retention.purge(default_days=30, now=utcnow() + timedelta(days=60))
        assert [(p.rsvps, p.signups) for p in done] == [(0, 1)]
        assert db.session.get(Event, event.id).purged_counts["volunteers"] == 1
        db.session.commit()  # the purge runs in the caller's transaction
    assert count(app, VolunteerSignup) == 0 and count(app, ShiftAssignment) == 0


def database_bytes(app, database_url: str) -> bytes:
    """What someone who copied the database would hold: the SQLite files, or pg_dump."""
    if database_url.startswith("sqlite"):
        path = Path(make_url(database_url).database)
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    url = make_url(database_url).set(drivername="postgresql")
    return subprocess.run(
        [shutil.which("pg_dump"), url.render_as_string(hide_password=False)],
        check=True,
        capture_output=True,
    ).stdout


def assert_nobody_in(data: bytes, *texts):
    for text in texts:
        assert text.encode() not in data, text


def test_a_dump_after_the_purge_holds_nobody(app, make_event, make_roles, database_url):
    event = ended(make_event, 31)
    fill(app, event, make_roles)
    sent_mail(app)
    with app.app_context():
        assert event.title.encode() in database_bytes(app, database_url)  # the dump is real
        worker.purge_retained(default_days=30)  # as the worker and `flask purge` run it
        db.session.remove()
    assert_nobody_in(
        database_bytes(app, database_url), PEOPLE["email"], PEOPLE["name"], PEOPLE["access"]
    )


def test_a_dump_after_an_erasure_holds_nothing_of_that_person(
    app, client, make_event, make_rsvp, database_url
):
    from helpers import csrf_token

    event = make_event()
    rsvp, token = make_rsvp(event, email=PEOPLE["email"], name=PEOPLE["name"])
    with app.app_context():
        from vigil import emails

        emails.queue_rsvp_received(db.session.get(Rsvp, rsvp.id))
        db.session.commit()
    sent_mail(app)
    page = client.get(f"/rsvp/{token}").get_data(as_text=True)
    response = client.post(
        f"/rsvp/{token}",
        data={"csrf_token": csrf_token(page), "action": "erase", "confirm": "y"},
    )
    assert response.status_code == 303
    assert client.get(f"/rsvp/{token}").status_code == 404
    assert list(mail_dir(app).glob("*.eml")) == []
    with app.app_context():
        db.session.remove()
    assert_nobody_in(database_bytes(app, database_url), PEOPLE["email"], PEOPLE["name"])


def test_an_erasure_removes_the_mail_copies_only_when_it_commits(app, make_event, make_rsvp):
    from vigil import emails

    event = make_event()
    rsvp, _ = make_rsvp(event)
    with app.app_context():
        emails.queue_rsvp_received(db.session.get(Rsvp, rsvp.id))
        db.session.commit()
    sent_mail(app)
    (copy,) = mail_dir(app).glob("*.eml")
    with app.app_context():
        rsvps.erase_rsvp(db.session.get(Rsvp, rsvp.id))
        db.session.rollback()  # as when the commit fails: the row stays, so does its copy
        assert copy.exists() and count(app, Rsvp) == 1
        rsvps.erase_rsvp(db.session.get(Rsvp, rsvp.id))
        db.session.close()  # ended without a commit: a later commit must not take the copy
        db.session.commit()
        assert copy.exists() and count(app, Rsvp) == 1
        rsvps.erase_rsvp(db.session.get(Rsvp, rsvp.id))
        assert copy.exists()  # not before the commit
        db.session.commit()
    assert not copy.exists() and count(app, Rsvp) == 0


def test_the_worker_purges_when_it_starts(app, make_event, make_rsvp):
    import threading

    from vigil.worker import run_worker

    event = ended(make_event, 31)
    make_rsvp(event)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    with app.app_context():
        run_worker(stop, 0.05)
    assert count(app, Rsvp) == 0


def test_create_rsvp_is_unaffected_for_live_events(ctx, make_event):
    event = db.session.get(Event, make_event().id)
    rsvps.create_rsvp(event, email="live@example.org")
    db.session.commit()
    assert retention.purge(default_days=30) == []


def test_a_dump_holds_no_one_in_clear_while_they_are_kept(
    app, client, make_event, make_roles, database_url
):
    """Encryption at rest: RSVPs, volunteers and queued emails, as they stand."""
    from helpers import submit

    event = make_event()
    _, (leaflets,) = make_roles(event)
    url = f"/events/{event.slug}"
    submit(
        client,
        url,
        f"{url}/rsvp",
        {
            "email": PEOPLE["email"],
            "name": PEOPLE["name"],
            "accessibility": PEOPLE["access"],
            "guests": "0",
            "consent": "y",
        },
    )
    with app.app_context():
        confirmed_sign_up(
            db.session.get(Event, event.id),
            email=PEOPLE["volunteer"],
            shift_ids=[leaflets],
            name="Lin Hiddenname",
            phone=PEOPLE["phone"],
            notes="Bring the banner from Wang's flat",
        )
        db.session.commit()
        assert count(app, OutboxMessage) == 3  # queued, not yet sent: bodies name them
        db.session.remove()
    data = database_bytes(app, database_url)
    assert event.title.encode() in data
    assert_nobody_in(
        data,
        PEOPLE["email"],
        PEOPLE["email"].split("@")[0],
        PEOPLE["name"],
        PEOPLE["access"],
        PEOPLE["volunteer"],
        PEOPLE["phone"],
        "Lin Hiddenname",
        "Wang's flat",
    )
    # and yet the application reads them back
    with app.app_context():
        rsvp = db.session.scalars(select(Rsvp)).one()
        assert (rsvp.email, rsvp.name) == (PEOPLE["email"], PEOPLE["name"])


def test_a_dump_holds_no_private_link_while_messages_wait(
    app, make_event, make_roles, make_organiser, database_url
):
    """Links are made when a message is sent, so none waits in the outbox: for no
    kind of message, to attendees, volunteers or admins; the optional organiser
    message, which carries List-Unsubscribe, included."""
    from vigil import attendees, audit, emails, rsvps, volunteers
    from vigil.models import Rsvp, Shift, VolunteerSignup

    event = make_event()
    limited = make_event(capacity=5)
    _, (leaflets,) = make_roles(event)
    make_organiser("admin")
    with app.app_context():
        stored = db.session.get(Event, event.id)
        rsvp = rsvps.create_rsvp(stored, email=PEOPLE["email"], wants_updates=True).rsvp
        emails.queue_manage_link(rsvp)
        rsvps.create_rsvp(db.session.get(Event, limited.id), email="asking@example.org")
        volunteers.sign_up(stored, email="asking@example.org", shift_ids=[leaflets])
        signup = confirmed_sign_up(stored, email=PEOPLE["volunteer"], shift_ids=[leaflets]).signup
        attendees.message_attendees(
            stored, subject="Meet at 10", body="Bring water.", audience="updates", message_key="m1"
        )
        rsvp, signup = db.session.get(Rsvp, rsvp.id), db.session.get(VolunteerSignup, signup.id)
        shift = db.session.get(Shift, leaflets)
        for queue in (
            emails.queue_rsvp_changed,
            emails.queue_rsvp_cancelled,
            emails.queue_rsvp_restored,
            emails.queue_rsvp_promoted,
            emails.queue_event_changed,
            emails.queue_event_cancelled,
            emails.queue_reminder,
        ):
            queue(rsvp)
        emails.queue_volunteer_changed(signup)
        emails.queue_shift_reminder(signup, shift)
        emails.queue_shift_cancelled(signup, shift)
        audit.queue_head_for_admins()
        db.session.commit()
        kinds = set(db.session.scalars(select(OutboxMessage.kind)))
        db.session.remove()
    assert {"rsvp_confirmed", "rsvp_pending", "rsvp_manage_link", "rsvp_promoted"} <= kinds
    assert {"volunteer_pending", "volunteer_confirmed", "shift_cancelled", "audit_head"} <= kinds
    assert "organiser_message" in kinds and len(kinds) == 17
    data = database_bytes(app, database_url)
    for path in (b"/rsvp/", b"/volunteer/"):
        assert path not in data
    mail = sent_mail(app)  # and once sent, every one to a person has its link
    to_people = [m for m in mail if not m["Subject"].startswith("Audit trail head")]
    assert len(to_people) == len(mail) - 1 and all(
        b"/rsvp/" in m.as_bytes() or b"/volunteer/" in m.as_bytes() for m in to_people
    )
