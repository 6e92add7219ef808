"""SQLite writers wait in a queue instead of polling for the write lock.

SQLite makes a writer that finds the database locked sleep and try again, for
longer each time (1 ms, then 2, 5, 10 … up to 100 ms). Under a surge of RSVPs
most writers are asleep when the lock comes free, so the database idles while
requests wait, and the slowest wait for seconds. Here every write transaction
first takes its process's writer lock, then an exclusive `flock` on a file beside
the database: the next writer, in this process or any other on the machine, is
woken as soon as the last one is done. Both are released when the connection goes
back to the pool, which Vigil's sessions do as they commit or roll back. A writer
that waits longer than the busy timeout for its process's turn goes ahead without
it, and SQLite's own busy handling decides, as before.
"""

import fcntl
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

_HELD = "vigil_write_queue_held"
_TURN = "vigil_write_queue_turn"
_mine = threading.local()  # how many queue places this thread holds
_turns: dict[str, threading.Lock] = {}  # one per database file in this process


def queue_file(database: str | None) -> str | None:
    """The lock file for a database file; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return database + "-writers"


def install(engine: Engine, path: str, timeout_seconds: float) -> None:
    turn = _turns.setdefault(path, threading.Lock())

    @event.listens_for(engine, "connect")
    def on_connect(_dbapi_connection, record):
        record.info[_TURN] = (path, turn, timeout_seconds)

    @event.listens_for(engine, "reset")
    def on_reset(_dbapi_connection, record, _reset_state):
        leave(record)

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        leave(record)

    @event.listens_for(engine, "close")
    def on_close(_dbapi_connection, record):
        leave(record)


def join(info: dict) -> None:
    """Wait for this connection's turn to write (call just before BEGIN IMMEDIATE).

    A thread that already holds a place through another connection does not queue
    again (it would wait for itself); SQLite's busy timeout covers that case. The
    lock file is opened for the turn and closed after it: flock belongs to an open
    file, so each turn queues on its own.
    """
    if _TURN not in info or info.get(_HELD) or getattr(_mine, "count", 0):
        return
    path, turn, timeout = info[_TURN]
    if not turn.acquire(timeout=timeout):
        return
    queue = open(path, "a+b")  # noqa: SIM115 - closed in leave()
    fcntl.flock(queue.fileno(), fcntl.LOCK_EX)
    _mine.count = getattr(_mine, "count", 0) + 1
    info[_HELD] = (_mine, queue)


def leave(record) -> None:
    held = record.info.pop(_HELD, None)
    if held is None:
        return
    holder, queue = held
    holder.count -= 1
    queue.close()  # which releases the flock
    record.info[_TURN][1].release()
