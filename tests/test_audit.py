"""The audit trail: log-ins recorded, rows append-only, and a hash chain that shows tampering."""

import threading

import pytest
from helpers import csrf_token, login
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from vigil import audit
from vigil.extensions import db
from vigil.models import AuditEntry, Organiser


def entries(app) -> list[tuple]:
    with app.app_context():
        return [
            (e.action, e.organiser_id)
            for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))
        ]


def account_id(app, email) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Organiser.id).where(Organiser.email == email))


def test_log_ins_failed_log_ins_and_log_outs_are_recorded(app, make_organiser):
    email = make_organiser("organiser")
    client = app.test_client()
    assert login(client, email, "not the password").status_code == 401
    assert login(client, "nobody@vigil.example", "not the password").status_code == 401
    assert login(client, email).status_code == 303
    token = csrf_token(client.get("/organiser/").get_data(as_text=True))
    client.post("/organiser/logout", data={"csrf_token": token})
    me = account_id(app, email)
    assert entries(app) == [
        ("failed log-in", me),  # the account someone tried to get into
        ("failed log-in", None),  # an address with no account: nothing to name
        ("log in", me),
        ("log out", me),
    ]


def verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_verify_passes_an_intact_chain_and_finds_an_edited_row(
    app, runner, engine_name, guard_restored
):
    with app.app_context():
        for n in range(5):
            audit.record(None, f"action {n}", rows=n)
        db.session.commit()
        third = db.session.scalars(db.select(AuditEntry.id).order_by(AuditEntry.id)).all()[2]
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 5 entries" in result.output
    # someone with database access changes a row: they must first get past the trigger
    with app.app_context():
        _drop_guard(engine_name)
        db.session.execute(text("UPDATE audit_entries SET rows = 99 WHERE id = :id"), {"id": third})
        db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"BROKEN at entry {third}" in result.output


def test_verify_finds_a_deleted_row(app, runner, engine_name, guard_restored):
    with app.app_context():
        ids = [audit.record(None, f"action {n}").id for n in range(4)]
        db.session.commit()
        _drop_guard(engine_name)
        db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1 and f"BROKEN at entry {ids[2]}" in result.output


def _recompute_without_the_key(from_id: int) -> None:
    """What someone with the database but not the key can do: rebuild the chain from
    a row on, with plain SHA-256 or any key they like."""
    import hashlib

    rows = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
    previous = None
    for entry in rows:
        if entry.id < from_id:
            previous = entry.hash
            continue
        entry.prev_hash = previous or audit.GENESIS
        guess = audit.entry_hash(entry, key=b"a guess at the key")
        plain = hashlib.sha256(guess.encode()).hexdigest()
        db.session.execute(
            text("UPDATE audit_entries SET prev_hash = :p, hash = :h WHERE id = :id"),
            {"p": entry.prev_hash, "h": plain, "id": entry.id},
        )
        previous = plain
    db.session.commit()


def test_an_edited_row_with_the_chain_recomputed_without_the_key_is_found(
    app, runner, engine_name, guard_restored
):
    with app.app_context():
        ids = [audit.record(None, f"action {n}", rows=n).id for n in range(5)]
        db.session.commit()
        _drop_guard(engine_name)
        db.session.execute(text("UPDATE audit_entries SET rows = 0 WHERE id = :id"), {"id": ids[2]})
        db.session.commit()
        db.session.expire_all()
        _recompute_without_the_key(ids[2])
    result = verify(runner)
    assert result.exit_code == 1 and f"BROKEN at entry {ids[2]}" in result.output


def test_rows_cut_off_the_end_are_found_with_a_head_kept_elsewhere(
    app, runner, engine_name, guard_restored
):
    with app.app_context():
        ids = [audit.record(None, f"action {n}").id for n in range(4)]
        db.session.commit()
    kept = verify(runner).output.split("head ")[1].strip()
    assert runner.invoke(args=["audit", "verify", "--head", kept]).exit_code == 0
    with app.app_context():
        _drop_guard(engine_name)
        db.session.execute(text("DELETE FROM audit_entries WHERE id >= :id"), {"id": ids[2]})
        db.session.commit()
    assert verify(runner).exit_code == 0  # what is left is a chain that fits...
    result = runner.invoke(args=["audit", "verify", "--head", kept])
    assert result.exit_code == 1 and "not in it" in result.output  # ...but not the one kept


def test_the_worker_emails_the_head_to_every_admin_once_a_day(app, make_organiser):
    from helpers import sent_mail

    from vigil.worker import send_audit_head

    admin, other_admin = make_organiser("admin"), make_organiser("admin")
    make_organiser("organiser")
    with app.app_context():
        audit.record(None, "something")
        db.session.commit()
        head = audit.verify_chain().head
        assert send_audit_head() == 2
        assert send_audit_head() == 0  # once a day
    mails = sent_mail(app)
    assert sorted(m["To"] for m in mails) == sorted([admin, other_admin])
    assert all(head in m.get_body(("plain",)).get_content() for m in mails)
    assert mails[0]["Subject"].startswith("Audit trail head, ")


def test_the_chain_key_is_kept_outside_the_database(app):
    from pathlib import Path

    with app.app_context():
        key = audit.audit_key()
        path = Path(app.instance_path) / "audit_key"
        assert path.read_text().strip().encode() == key
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        entry = audit.record(None, "something")
        db.session.commit()
        assert entry.hash == audit.entry_hash(entry, key)
        assert entry.hash != audit.entry_hash(entry, b"another key")


@pytest.fixture
def guard_restored(app, engine_name):
    """The PostgreSQL test database outlives a test: put the trigger back afterwards."""
    yield
    if engine_name == "postgresql":
        with app.app_context():
            db.session.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
            db.session.commit()


def _drop_guard(engine_name):
    if engine_name == "sqlite":
        db.session.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.session.execute(text("DROP TRIGGER audit_entries_no_delete"))
    else:
        db.session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))


def test_the_database_refuses_to_change_or_delete_audit_rows(app):
    with app.app_context():
        entry_id = audit.record(None, "something").id
        db.session.commit()
        for statement in (
            "UPDATE audit_entries SET action = 'nothing' WHERE id = :id",
            "DELETE FROM audit_entries WHERE id = :id",
        ):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement), {"id": entry_id})
            db.session.rollback()


def test_writers_at_the_same_moment_keep_one_chain(app, runner):
    errors = []

    def write(n):
        try:
            with app.app_context():
                for i in range(10):
                    audit.record(None, f"writer {n} entry {i}")
                    db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "60 entries" in result.output
