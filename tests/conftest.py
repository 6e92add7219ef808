"""Fixtures: a fresh app per test on a real SQLite file and on a real PostgreSQL server.

Every test that uses `app` runs once per engine. PostgreSQL tests get a database of
their own, created for the test session and dropped afterwards; set
VIGIL_TEST_POSTGRES_URL to point at another server, or VIGIL_TEST_ENGINES=sqlite to
run the SQLite half only while working.
"""

import asyncio
import email
import email.policy
import os
import secrets
import socket
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from vigil import create_app
from vigil.extensions import db
from vigil.models import Event, EventStatus, Rsvp, RsvpStatus, RsvpToken
from vigil.people import email_lookup
from vigil.tokens import new_token

POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ENGINES = [e for e in os.environ.get("VIGIL_TEST_ENGINES", "sqlite,postgresql").split(",") if e]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "postgresql: needs the PostgreSQL server (left out without it in ENGINES)"
    )


def pytest_collection_modifyitems(config, items):
    """Tests that run on PostgreSQL alone are deselected when VIGIL_TEST_ENGINES leaves
    it out, so `VIGIL_TEST_ENGINES=sqlite` needs no PostgreSQL server at all."""
    if "postgresql" in ENGINES:
        return

    def needs_postgresql(item) -> bool:
        params = getattr(item, "callspec", None)
        pinned = params is not None and params.params.get("database_url") == "postgresql"
        return pinned or item.get_closest_marker("postgresql") is not None

    deselected = [item for item in items if needs_postgresql(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not needs_postgresql(item)]


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
            "VIGIL_LOGIN_FAILURE_DELAY_SECONDS": 0,
            # Tests send many forms from one client; test_rate_limits checks the defaults.
            "VIGIL_FORM_LIMIT_PER_CLIENT": "100000 per minute",
            "VIGIL_FORM_LIMIT_PER_ADDRESS": "100000 per minute",
            "VIGIL_ADMIN_TWO_FACTOR": False,  # test_two_step turns it on
        }
    )
    from vigil.extensions import limiter

    limiter.reset()  # the in-memory store outlives one app; each test starts clean
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
        starts = overrides.pop(
            "starts_at", (now() + timedelta(days=14)).replace(second=0, microsecond=0)
        )
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
        with app.app_context():
            key = email_lookup(address)
        values = dict(
            event_id=event.id,
            email=address,
            email_key=key,
            guests=0,
            status=RsvpStatus.CONFIRMED,
            queued_at=now(),
        )
        values.update(overrides)
        rsvp = Rsvp(**values)
        rsvp.tokens.append(RsvpToken(token_hash=token_hash))
        return store(app, rsvp), token

    return make


# ---------------------------------------------------------------- a real SMTP server


class SmtpRecorder:
    """An aiosmtpd handler that keeps what it receives and can be told to refuse.

    `plan[address]` is a list of reply codes for successive RCPT commands to that
    address (e.g. [451, 250]); `delay` slows every DATA down.
    """

    def __init__(self):
        self.messages: list = []
        self.raw: list[bytes] = []  # as received, before any parsing
        self.plan: dict[str, list[int]] = {}
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        codes = self.plan.get(address)
        if codes:
            code = codes.pop(0)
            if code != 250:
                return f"{code} {'try again later' if code < 500 else 'no such mailbox'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.raw.append(envelope.content)
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        with self.lock:
            return [m["To"] for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free loopback port; `smtp.handler` holds what arrived."""
    from aiosmtpd.controller import Controller

    handler = SmtpRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.handler = handler
    yield controller
    controller.stop()


@pytest.fixture
def smtp_app(app, smtp):
    """The app, sending through the real SMTP server instead of into files."""
    from vigil.extensions import mail

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, VIGIL_MAIL_TIMEOUT_SECONDS=5)
    mail.init_app(app)
    return app


@pytest.fixture
def make_roles(app):
    """Give an event roles and shifts: [(role kwargs, [(start offset hours, hours, capacity)])]."""
    from vigil.models import Role, Shift

    def make(event: Event, spec=None) -> list:
        spec = spec or [
            (
                {"name": "Steward", "needs_phone": True, "what_to_bring": "Hi-vis vest"},
                [(-1, 1, 2), (0, 2, 2)],
            ),
            ({"name": "Leafleting"}, [(0, 1, 3)]),
        ]
        with app.app_context():
            stored = db.session.get(Event, event.id)
            roles = []
            for position, (values, shifts) in enumerate(spec):
                role = Role(event=stored, position=position, **values)
                role.shifts = [
                    Shift(
                        starts_at=stored.starts_at + timedelta(hours=start),
                        ends_at=stored.starts_at + timedelta(hours=start + length),
                        capacity=capacity,
                        meeting_point="By the railings",
                    )
                    for start, length, capacity in shifts
                ]
                db.session.add(role)
                roles.append(role)
            db.session.commit()
            ids = [[s.id for s in role.shifts] for role in roles]
        return ids

    return make


PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_organiser(app):
    """An organiser account, optionally a member of some events."""
    from vigil import organisers

    def make(role="organiser", events=(), email=None) -> str:
        email = email or f"{role}{next(_counter)}@vigil.example"
        with app.app_context():
            account = organisers.create_organiser(email, role.title(), role, PASSWORD)
            for event in events:
                organisers.add_member(account, db.session.get(Event, event.id))
            db.session.commit()
        return email

    return make


# ---------------------------------------------------------------- organisers and who may do what

# The people a permission test tries, towards one event: nobody logged in, a steward
# of the event, an organiser of another event, an organiser of it, an admin.
WHO = ("anonymous", "steward", "other", "organiser", "admin")


@pytest.fixture
def log_in(app):
    """A new browser, logged in as `email` through the form."""
    from helpers import login

    def open_as(email: str):
        client = app.test_client()
        assert login(client, email).status_code == 303
        return client

    return open_as


@pytest.fixture
def signed_in(make_organiser, log_in):
    """A new browser logged in as a new account of `role`, a member of `events`."""

    def make(role="organiser", events=()):
        return log_in(make_organiser(role, list(events)))

    return make


@pytest.fixture
def accounts_for(make_event, make_organiser):
    """One account of each kind in WHO (but anonymous) towards `event`: {who: email}."""

    def make(event: Event) -> dict[str, str]:
        elsewhere = make_event()
        return {
            "steward": make_organiser("steward", [event]),
            "other": make_organiser("organiser", [elsewhere]),
            "organiser": make_organiser("organiser", [event]),
            "admin": make_organiser("admin"),
        }

    return make


@pytest.fixture
def visitor(app):
    """(browser, a CSRF token its posts can carry) for `email`, or for nobody logged in."""
    from helpers import csrf_token, login

    def visit(email: str | None = None):
        client = app.test_client()
        token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
        if email is not None:
            assert login(client, email).status_code == 303
            token = csrf_token(client.get("/organiser/").get_data(as_text=True))
        return client, token

    return visit
