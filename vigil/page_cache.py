"""Public pages and feeds rendered once per change, then served from memory.

Every commit that touches what the public sees raises a generation number: the
*content* generation for events, roles and shifts, the *places* generation for
RSVPs, the *shifts* generation for volunteer sign-ups. The numbers live in this
process, or in Redis when VIGIL_CACHE_URL is set, and then every app process and
mail worker shares them.

A cached page is served while the numbers it depends on stand still and time has
not changed it: a page counts RSVPs only where the event has a limit, so a crowd
RSVPing to a demonstration without one leaves its page untouched. After a
places or shifts change, the page's state is read again (public_state.py, a query
or two) and the page is rendered again only if what it shows has changed; after a
content change it is always rendered again. With Redis, rendered pages are shared
too, so one process's render serves the others.
"""

import hashlib
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import redis
from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .models import utcnow
from .public_state import PageState

log = logging.getLogger(__name__)

# The generation each table raises, in the order of the numbers.
KINDS = ("content", "places", "shifts")
_KIND_OF_TABLE = {
    "events": "content",
    "roles": "content",
    "shifts": "content",
    "rsvps": "places",
    "volunteer_signups": "shifts",
    "shift_assignments": "shifts",
}
_CHANGED = "vigil_public_changes"
_ANNOUNCE = "vigil_public_changes_committed"
# Without a shared store, a change made by another process (a mail worker expiring
# unconfirmed RSVPs) shows within this long.
LOCAL_RECHECK = timedelta(seconds=10)
# With one, a change whose announcement failed (Redis down) shows within this long.
SHARED_RECHECK = timedelta(minutes=5)
SHARED_PAGE_SECONDS = 3600
_LOCK_STRIPES = 64


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    rendered_at: datetime


@dataclass(frozen=True)
class _Entry:
    page: CachedPage
    generations: tuple[int, ...]  # KINDS' numbers when the entry was last checked
    shows: tuple
    counts: frozenset  # the tallies besides content that can change `shows`
    recheck_at: datetime

    def holds(self, generations: tuple[int, ...]) -> bool:
        """Whether nothing this page depends on has changed since it was checked."""
        return all(
            mine == theirs
            for kind, mine, theirs in zip(KINDS, self.generations, generations, strict=True)
            if kind == "content" or kind in self.counts
        )


class LocalGenerations:
    """The generation numbers of this process alone."""

    shared = False

    def __init__(self):
        self._numbers = (0,) * len(KINDS)
        self._lock = threading.Lock()

    def read(self) -> tuple[int, ...]:
        return self._numbers

    def bump(self, kinds: set[str]) -> None:
        with self._lock:
            self._numbers = tuple(
                n + (k in kinds) for k, n in zip(KINDS, self._numbers, strict=True)
            )


_BUMP = """
local numbers = {}
for i, key in ipairs(KEYS) do
  if ARGV[i] == "1" then
    numbers[i] = redis.call("INCR", key)
  else
    numbers[i] = tonumber(redis.call("GET", key) or "0")
  end
end
redis.call("PUBLISH", ARGV[#KEYS + 1], table.concat(numbers, " "))
return numbers
"""


class RedisGenerations:
    """The generation numbers every process shares: a Redis counter each, and a channel
    on which each change announces the new numbers.

    Each process listens on the channel in a thread of its own and keeps the latest
    numbers in memory, so a page view costs no round trip to Redis; a change made
    anywhere is heard within moments. While the listener is not connected (at start,
    or after Redis went away) every read asks Redis itself.
    """

    shared = True

    def __init__(self, client: redis.Redis, prefix: str, listener: redis.Redis):
        self.client = client
        self.listener = listener
        self.keys = tuple(prefix + kind for kind in KINDS)
        self.channel = prefix + "changes"
        self._heard: tuple[int, ...] | None = None
        self._pid: int | None = None
        self._start = threading.Lock()
        self._bump = client.register_script(_BUMP)

    def read(self) -> tuple[int, ...]:
        if self._pid != os.getpid():
            self._listen_in_background()
        heard = self._heard
        return heard if heard is not None else self.fetch()

    def bump(self, kinds: set[str]) -> None:
        # One round trip: raise the counters, read them all, announce them.
        flags = ["1" if kind in kinds else "0" for kind in KINDS]
        numbers = _numbers(self._bump(keys=self.keys, args=[*flags, self.channel]))
        self._hear(numbers)  # this process at once, without waiting for the echo

    def fetch(self) -> tuple[int, ...]:
        """The numbers as Redis holds them now."""
        return _numbers(self.client.mget(self.keys))

    def _hear(self, numbers: tuple[int, ...]) -> None:
        heard = self._heard
        if heard is not None:
            # Announcements from several processes may arrive out of order.
            self._heard = tuple(map(max, heard, numbers))

    def _listen_in_background(self) -> None:
        with self._start:
            if self._pid == os.getpid():
                return
            # A forked process (a gunicorn worker) starts its own listener.
            self._pid = os.getpid()
            self._heard = None
            threading.Thread(target=self._listen, name="vigil-page-cache", daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                pubsub = self.listener.pubsub()
                pubsub.subscribe(self.channel)
                while (pubsub.get_message(timeout=5.0) or {}).get("type") != "subscribe":
                    pass
                # Subscribed: every change from now on is heard; read the ones before.
                self._heard = self.fetch()
                while True:
                    message = pubsub.get_message(timeout=30.0)
                    if message and message["type"] == "message":
                        self._hear(_numbers(message["data"].split()))
            except (redis.RedisError, OSError, ValueError) as exc:
                self._heard = None  # read from Redis on every view until heard again
                log.warning("page cache: listener reconnecting: %s", type(exc).__name__)
                time.sleep(1.0)  # a background thread: no request waits on this


def _numbers(values) -> tuple[int, ...]:
    if len(values) != len(KINDS):
        raise ValueError("not one number per kind")
    return tuple(int(value or 0) for value in values)


class PageCache:
    def __init__(self, generations, client: redis.Redis | None = None, prefix: str = ""):
        self.generations = generations
        self.client = client
        self.prefix = prefix
        self._entries: dict[tuple, _Entry] = {}
        # Striped, so a flood of made-up addresses cannot grow a lock per key.
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self.renders = 0  # how often this process rendered a page (tests, benchmarks)

    def page(
        self,
        key: tuple,
        state: Callable[[], PageState | None],
        render: Callable[[], bytes],
        etag: Callable[[tuple], str] | None = None,
    ) -> CachedPage | None:
        """The page for `key`; None when `state()` says it does not exist (a 404).

        `render()` runs only when the page is missing or out of date, and one thread
        of this process at a time renders a given page; the others wait for it.
        `etag(shows)`, when given, names the page by its state rather than its bytes
        (feeds, whose bytes carry a timestamp).
        """
        generations = self._read_generations()
        if generations is None:  # the shared store is down: serve, uncached
            return self._fresh_page(key, state, render, etag)
        entry = self._entries.get(key)
        if self._holds(entry, generations):
            return entry.page
        with self._locks[zlib.crc32(repr(key).encode()) % _LOCK_STRIPES]:
            generations = self._read_generations() or generations
            entry = self._entries.get(key)
            if self._holds(entry, generations):
                return entry.page
            current = state()
            if current is None:
                self._entries.pop(key, None)
                return None
            if entry and entry.generations[0] == generations[0] and entry.shows == current.shows:
                page = entry.page
            else:
                page = self._shared_page(key, generations[0], current.shows)
                if page is None:
                    page = self._render(render, etag, current.shows)
                    self._share(key, generations[0], current.shows, page)
            self._entries[key] = _Entry(
                page,
                generations,
                current.shows,
                current.counts,
                self._recheck_at(current.valid_until),
            )
            return page

    def is_current(self, key: tuple, etag: str) -> bool:
        """Whether the page `page(key, …)` would give now is the one named `etag`,
        as far as this process knows without a query."""
        generations = self._read_generations()
        entry = self._entries.get(key)
        return (
            generations is not None and self._holds(entry, generations) and entry.page.etag == etag
        )

    def changed(self, kinds: set[str]) -> None:
        """Called after a commit that changed what the public sees (a set of KINDS)."""
        try:
            self.generations.bump(kinds)
        except redis.RedisError as exc:
            # This process forgets its pages; the others recheck within SHARED_RECHECK.
            log.error("page cache: could not announce a change: %s", type(exc).__name__)
            self._entries.clear()

    def __len__(self) -> int:
        """How many pages this process holds."""
        return len(self._entries)

    # ------------------------------------------------------------ internals

    def _read_generations(self) -> tuple[int, ...] | None:
        try:
            return self.generations.read()
        except redis.RedisError as exc:
            log.warning("page cache: store unavailable: %s", type(exc).__name__)
            return None

    def _holds(self, entry: _Entry | None, generations: tuple[int, ...]) -> bool:
        if entry is None or not entry.holds(generations):
            return False
        return utcnow() < entry.recheck_at

    def _recheck_at(self, valid_until: datetime | None) -> datetime:
        limit = utcnow() + (SHARED_RECHECK if self.generations.shared else LOCAL_RECHECK)
        return min(valid_until, limit) if valid_until else limit

    def _fresh_page(self, key, state, render, etag) -> CachedPage | None:
        current = state()
        return None if current is None else self._render(render, etag, current.shows)

    def _render(self, render, etag, shows: tuple) -> CachedPage:
        body = render()
        self.renders += 1
        tag = etag(shows) if etag else hashlib.sha256(body).hexdigest()[:32]
        return CachedPage(body, tag, utcnow())

    def _shared_key(self, key: tuple, content: int, shows: tuple) -> str:
        digest = hashlib.sha256(repr((key, content, shows)).encode()).hexdigest()[:32]
        return f"{self.prefix}page:{digest}"

    def _shared_page(self, key: tuple, content: int, shows: tuple) -> CachedPage | None:
        if self.client is None:
            return None
        try:
            stored = self.client.hmget(self._shared_key(key, content, shows), "body", "etag")
        except redis.RedisError:
            return None
        body, etag = stored
        if body is None or etag is None:
            return None
        return CachedPage(body, etag.decode(), utcnow())

    def _share(self, key: tuple, content: int, shows: tuple, page: CachedPage) -> None:
        if self.client is None:
            return
        name = self._shared_key(key, content, shows)
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(name, mapping={"body": page.body, "etag": page.etag})
            pipe.expire(name, SHARED_PAGE_SECONDS)
            pipe.execute()
        except redis.RedisError:
            pass  # the next process renders it for itself


# ---------------------------------------------------------------- change tracking


def _note(session: Session, table_name: str | None) -> None:
    kind = _KIND_OF_TABLE.get(table_name)
    if kind is not None:
        session.info.setdefault(_CHANGED, set()).add(kind)


def _before_flush(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        _note(session, getattr(table, "name", None))


def _on_execute(state) -> None:
    """Statements that bypass the unit of work (INSERT … ON CONFLICT, bulk UPDATEs)."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _note(state.session, getattr(table, "name", None))


def _after_commit(session: Session) -> None:
    # Announced once the transaction has ended and its connection is back in the
    # pool: on SQLite that is after the writer's turn (sqlite_write_queue.py), so the
    # next writer does not wait for a round trip to Redis.
    kinds = session.info.pop(_CHANGED, None)
    if kinds:
        session.info.setdefault(_ANNOUNCE, set()).update(kinds)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    kinds = session.info.pop(_ANNOUNCE, None)
    if kinds and has_app_context():
        cache = current_app.extensions.get("vigil_page_cache")
        if cache is not None:
            cache.changed(kinds)


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


_listening = False


def _listen() -> None:
    global _listening
    if not _listening:
        sa_event.listen(Session, "before_flush", _before_flush)
        sa_event.listen(Session, "do_orm_execute", _on_execute)
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_transaction_end", _after_transaction_end)
        sa_event.listen(Session, "after_rollback", _after_rollback)
        _listening = True


def _build_stamp(app: Flask) -> str:
    """Changes when the templates or translations do, so pages rendered by an older
    deployment are never served from Redis by a newer one."""
    root = Path(app.root_path)
    folders = [Path(app.template_folder), root / "translations"]
    files = sorted(p for folder in folders if folder.is_dir() for p in folder.rglob("*"))
    stats = [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.is_file()]
    return hashlib.sha256(repr(stats).encode()).hexdigest()[:12]


def init_page_cache(app: Flask) -> None:
    url = app.config.get("VIGIL_CACHE_URL") or app.config["RATELIMIT_STORAGE_URI"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        # The listener waits for announcements as long as it takes; pings keep it honest.
        listener = redis.Redis.from_url(
            url, socket_connect_timeout=1.0, socket_keepalive=True, health_check_interval=30
        )
        # Apart from any other Vigil sharing the Redis server: another key, another database.
        identity = app.config["SECRET_KEY"] + "\0" + app.config["SQLALCHEMY_DATABASE_URI"]
        scope = hashlib.sha256(identity.encode()).hexdigest()[:12]
        prefix = f"vigil:{scope}:{_build_stamp(app)}:"
        generations = RedisGenerations(client, f"vigil:{scope}:", listener)
        app.extensions["vigil_page_cache"] = PageCache(generations, client, prefix)
    else:
        app.extensions["vigil_page_cache"] = PageCache(LocalGenerations())
    _listen()


def page_cache() -> PageCache:
    return current_app.extensions["vigil_page_cache"]
