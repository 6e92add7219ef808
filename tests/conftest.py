"""Fixtures: a fresh app per test on a real SQLite file and on a real PostgreSQL server.

Every test that uses `app` runs once per engine. PostgreSQL tests get a database of
their own, created for the test session and dropped afterwards; set
VIGIL_TEST_POSTGRES_URL to point at another server, or VIGIL_TEST_ENGINES=sqlite to
run the SQLite half only while working.
"""

import os
import secrets
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from vigil import create_app
from vigil.extensions import db
from vigil.models import Event, EventStatus, Rsvp, RsvpStatus, RsvpToken
from vigil.tokens import new_token

POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ENGINES = [e for e in os.environ.get("VIGIL_TEST_ENGINES", "sqlite,postgresql").split(",") if e]


def _admin_conninfo() -> str:
    url = make_url(POSTGRES_ADMIN_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres_database() -> str:
    """A new, empty database on the test server; returns its SQLAlchemy URL."""
    name = "vigil_test_" + secrets.token_hex(6)
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url():
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def postgres_schema(postgres_url):
    """Build the schema once with the real migrations; tests then empty the tables."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": postgres_url,
            "SECRET_KEY": "schema",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return postgres_url


@pytest.fixture(params=ENGINES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "vigil.sqlite3")
    url = request.getfixturevalue("postgres_schema")
    return url


@pytest.fixture
def engine_name(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-" + secrets.token_hex(8),
            "VIGIL_BASE_URL": "http://vigil.test",
            "VIGIL_MAIL_RETRY_BASE_SECONDS": 0.05,
        }
    )
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()  # the migrations are checked against the models in test_migrations
        else:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for tests that call domain functions directly."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---------------------------------------------------------------- factories


def now() -> datetime:
    return datetime.now(UTC)


_counter = iter(range(1, 10**9))


def store(app, obj):
    """Commit a row in its own app context and hand it back detached, fully loaded."""
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        db.session.refresh(obj)
        db.session.expunge(obj)
    return obj


@pytest.fixture
def make_event(app):
    """Create and commit an event; every field can be overridden."""

    def make(**overrides) -> Event:
        n = next(_counter)
        starts = overrides.pop("starts_at", now() + timedelta(days=14))
        values = dict(
            slug=f"event-{n}",
            title=f"Vigil number {n}",
            summary="A short summary.",
            description="First paragraph.\n\nSecond paragraph.",
            demands=["Free them all."],
            venue="Opposite the embassy",
            street_address="49-59 Portland Place",
            locality="London",
            postcode="W1B 1JL",
            transport="Nearest tubes: Great Portland Street",
            timezone="Europe/London",
            starts_at=starts,
            ends_at=overrides.pop("ends_at", starts + timedelta(hours=2)),
            status=EventStatus.PUBLISHED,
            capacity=None,
        )
        values.update(overrides)
        return store(app, Event(**values))

    return make


@pytest.fixture
def make_rsvp(app):
    """Insert an RSVP row directly (no rules, no email): for setting up a situation."""

    def make(event: Event, **overrides) -> tuple[Rsvp, str]:
        n = next(_counter)
        token, token_hash = new_token()
        address = overrides.pop("email", f"person{n}@example.org")
        values = dict(
            event_id=event.id,
            email=address,
            email_key=address.lower(),
            guests=0,
            status=RsvpStatus.CONFIRMED,
            queued_at=now(),
        )
        values.update(overrides)
        rsvp = Rsvp(**values)
        rsvp.tokens.append(RsvpToken(token_hash=token_hash))
        return store(app, rsvp), token

    return make
