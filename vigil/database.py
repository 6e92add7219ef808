"""Engine set-up that makes SQLite behave like a server database for Vigil's needs.

SQLite has no row locks, so every write transaction starts with `BEGIN IMMEDIATE`:
the database write lock is taken before the first read, and two RSVPs can never both
see the last free place. Read-only requests ask for a plain deferred `BEGIN` so that,
in WAL mode, readers never wait for writers.

The public forms read first (the event, the form's checks) in a deferred transaction
and take the write lock only when they reach the capacity check and the insert (see
`read_first` and `take_write_lock`), so a surge of RSVPs queues on the write alone.

A server database's pooled connections are checked before use by a look at their
socket, not a ping (`check_connections_cheaply`).
"""

import os
import select
import time
from functools import wraps

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from . import sqlite_write_queue
from .extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys on, explicit BEGIN statements, and writers
    that queue for the write lock (sqlite_write_queue.py)."""
    queue = sqlite_write_queue.queue_file(engine.url.database)
    if queue:
        sqlite_write_queue.install(engine, queue, busy_timeout_ms / 1000)
    keep_private(engine.url.database)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (see on_begin) instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten with zeros, not left in free pages of the file.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        read_only = conn.get_execution_options().get("vigil_read_only") or _reads_first()
        if not read_only:
            sqlite_write_queue.join(conn.info)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
        conn.info["vigil_read_only"] = bool(read_only)


def keep_private(path: str | None) -> None:
    """Make the database file readable by its owner only (0600), creating it so if it
    is new. Organisers' addresses and password hashes are in it in clear, and SQLite
    gives the -wal and -shm files the database file's own mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.chmod(path + suffix, 0o600)


# A pooled connection idle longer than this is pinged before use: a firewall between
# the machines may have dropped it without a word.
IDLE_PING_SECONDS = 30.0


def check_connections_cheaply(engine: Engine) -> None:
    """Check a pooled connection by its socket before use, and ping only one that sat
    idle for long. A server that restarted, or ended the session, has closed the
    socket or left its farewell in it: either way an idle connection's socket is
    readable. The ping this replaces was one database round trip in every request's
    seven or so. A connection found dead is replaced before the request sees it."""

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        idle = time.monotonic() - record.info.get("vigil_checked_in", 0.0)
        if _closed_by_server(dbapi_connection) or (
            idle > IDLE_PING_SECONDS and not _answers(engine, dbapi_connection)
        ):
            raise DisconnectionError("the server closed this connection")

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def on_connect_or_checkin(_dbapi_connection, record):
        if record is not None:
            record.info["vigil_checked_in"] = time.monotonic()


def _closed_by_server(dbapi_connection) -> bool:
    """Nothing is due on an idle connection: anything to read means the server has
    spoken last (an error, or end of file)."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True


def _answers(engine: Engine, dbapi_connection) -> bool:
    try:
        return engine.dialect.do_ping(dbapi_connection)
    except Exception:  # any failure means: use another connection
        return False


def _reads_first() -> bool:
    """Whether this request's first transaction is a read (see `read_first`); it is
    asked once, so any later transaction of the request takes the write lock."""
    return has_request_context() and g.pop("vigil_read_first", False)


def init_database(app: Flask) -> None:
    """Tune the engine; Flask-SQLAlchemy rolls back whatever a request did not commit."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            check_connections_cheaply(engine)
            return
        configure_sqlite(engine, app.config["VIGIL_SQLITE_BUSY_TIMEOUT_MS"])

        @app.before_request
        def read_only_transaction():
            # Organiser pages write an audit row for every look at personal data,
            # so they take the write lock up front like any other write. Nothing
            # is opened here: a page served from the cache never touches the
            # database at all.
            if request.method in READ_ONLY_METHODS and not request.path.startswith("/organiser/"):
                g.vigil_read_first = True


def read_first(view):
    """Begin the request's first transaction as a read, whatever the method: for the
    public forms, whose domain functions call `take_write_lock` (through
    `events.lock_event`) before their first write."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.vigil_read_first = True
        return view(*args, **kwargs)

    return wrapper


def take_write_lock() -> None:
    """On SQLite, end a read-only transaction so the next statement begins with
    `BEGIN IMMEDIATE`; what was read is read again under the lock. Elsewhere, and in
    a transaction that already holds the lock, nothing happens (PostgreSQL locks the
    row itself). Raises RuntimeError if the read transaction holds unsaved changes."""
    session = db.session()
    if not (is_sqlite() and session.in_transaction()):
        return
    if not session.connection().info.get("vigil_read_only"):
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("changes made before the write lock was taken")
    session.commit()


def begin_read_only() -> None:
    """Start the session's next transaction as a plain deferred BEGIN on SQLite, so a
    long read (an export) never holds the write lock. No-op elsewhere."""
    if is_sqlite() and not db.session().in_transaction():
        db.session.connection(execution_options={"vigil_read_only": True})


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def flush_deleted_data() -> None:
    """After an erasure or a purge has committed: on SQLite, copy the write-ahead log
    into the database file and empty it, so the deleted rows survive in neither (with
    secure_delete on, their pages are zeros). PostgreSQL never dumps deleted rows."""
    if is_sqlite():
        # Outside any transaction (a checkpoint cannot run inside one): the driver
        # connection is in autocommit mode, see on_connect.
        raw = db.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
