"""Engine set-up that makes SQLite behave like a server database for Vigil's needs.

SQLite has no row locks, so every write transaction starts with `BEGIN IMMEDIATE`:
the database write lock is taken before the first read, and two RSVPs can never both
see the last free place. Read-only requests ask for a plain deferred `BEGIN` so that,
in WAL mode, readers never wait for writers.
"""

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys on, and explicit BEGIN statements."""

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
        if conn.get_execution_options().get("vigil_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_database(app: Flask) -> None:
    """Tune the engine; Flask-SQLAlchemy rolls back whatever a request did not commit."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, app.config["VIGIL_SQLITE_BUSY_TIMEOUT_MS"])

            @app.before_request
            def read_only_transaction():
                # Organiser pages write an audit row for every look at personal data,
                # so they take the write lock up front like any other write.
                if (
                    request.method in READ_ONLY_METHODS
                    and not request.path.startswith("/organiser/")
                    and not db.session().in_transaction()
                ):
                    begin_read_only()


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
