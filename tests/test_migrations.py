"""`flask --app vigil db upgrade` builds the schema on both engines, matching the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import create_postgres_database, drop_postgres_database
from sqlalchemy import inspect

from vigil import create_app
from vigil.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.sqlite3"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def test_db_upgrade_builds_a_fresh_database_that_matches_the_models(empty_database, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "INSTANCE_PATH": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"events", "rsvps", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_seed_runs_on_a_migrated_database(empty_database, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "created: human-rights-day-2017" in result.output
    with app.app_context():
        db.engine.dispose()


def test_upgrading_a_database_with_data_keeps_every_row(empty_database, tmp_path):
    """Migrations that rebuild tables must not cascade-delete what points at them."""
    from sqlalchemy import text

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0001"]).exit_code == 0
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO events (id, uuid, slug, title, summary, description, demands, venue,"
                " street_address, locality, postcode, transport, starts_at, ends_at, timezone,"
                " status, sequence, created_at, updated_at) VALUES"
                " (1, 'u-1', 'kept', 'Kept', '', '', '[]', 'v', 'a', 'l', 'p', '',"
                " '2030-01-01 10:00:00', '2030-01-01 12:00:00',"
                " 'Europe/London', 'published', 0, '2029-01-01', '2029-01-01')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO rsvps (id, event_id, email, email_key, guests, wants_updates, status,"
                " token_hash, queued_at, created_at, updated_at) VALUES (1, 1, 'a@example.org',"
                " 'a@example.org', 0, false, 'confirmed', :hash, '2029-01-01', '2029-01-01',"
                " '2029-01-01')"
            ),
            {"hash": "a" * 64},
        )
        db.session.commit()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM rsvps")).scalar() == 1
        assert db.session.execute(text("SELECT token_hash FROM rsvp_tokens")).scalar() == "a" * 64
        # the address written in clear before encryption existed is now ciphertext
        from vigil.models import Rsvp
        from vigil.people import email_lookup

        raw, key = db.session.execute(text("SELECT email, email_key FROM rsvps")).one()
        assert raw.startswith("v1:") and "example.org" not in raw
        assert key == email_lookup("a@example.org")
        assert db.session.get(Rsvp, 1).email == "a@example.org"
        if empty_database.startswith("sqlite"):
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
