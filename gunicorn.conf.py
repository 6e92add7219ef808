"""Vigil under gunicorn. gunicorn reads this file by itself when started from the
project folder: `gunicorn wsgi:app`.

Threaded workers, one process per core: a request that waits on the database holds
a thread, not a whole process. Slow clients hold no thread at all: the worker
(vigil/slow_clients.py, gthread underneath) reads each request in its event loop
and gives it to a thread only once it has arrived, and closes a connection that
has not sent its request within VIGIL_REQUEST_TIMEOUT seconds. So slow clients
need no buffering proxy in front; a proxy is still the place for HTTPS.
"""

import ctypes
import gc
import logging
import multiprocessing
import os

from vigil.logs import RedactTokens

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h

bind = os.environ.get("VIGIL_BIND", "127.0.0.1:8000")
# Rate limits hold across processes only in a shared store (Redis). Without one,
# each process would count on its own, so the embedded set-up runs one process.
SHARED_LIMITS = os.environ.get("RATELIMIT_STORAGE_URI", "memory://") != "memory://"
workers = int(
    os.environ.get("WEB_CONCURRENCY") or (multiprocessing.cpu_count() if SHARED_LIMITS else 1)
)
# gthread, except that a thread only ever gets a request that has fully arrived.
worker_class = "vigil.slow_clients.BufferingThreadWorker"
# Seconds a client has to send a request's head and (up to 64 KiB) body; a slower
# one is closed before any thread sees it. gunicorn has no setting for this, so
# post_worker_init hands it to the worker.
REQUEST_TIMEOUT = float(os.environ.get("VIGIL_REQUEST_TIMEOUT", "10"))
# Threads only run requests that have arrived, so they wait on the app and the
# database alone. Six keep the core busy while some wait on the database; more only
# take turns at Python's one lock (tests/bench/bench_surge.py, the PostgreSQL
# crowd, one run each on the same code: 90.5 RSVPs/s with 12 threads, 108.9 with 6).
threads = int(os.environ.get("VIGIL_THREADS", "6"))
# A worker that does not answer its heartbeat for this long is restarted.
timeout = 30
graceful_timeout = 20
# Idle keep-alive connections are closed quickly: each holds a socket, and a place
# among the worker's connections.
keepalive = 2
# Bounded request lines and headers (the app's own limit covers bodies).
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
# Workers are replaced now and then, so memory cannot creep over days of traffic;
# rarely, since each replacement loads the app again and drops its keep-alive
# connections: at 20,000, a worker serving 2,000 requests a second restarted every
# ten seconds.
max_requests = 500_000
max_requests_jitter = 50_000
accesslog = os.environ.get("VIGIL_ACCESS_LOG", "-")
errorlog = "-"
# No client address in the access log: who asked for a page is not ours to keep.
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'
proc_name = "vigil"
# No shared control socket in the home folder: several Vigil servers (or a server
# and its benchmarks) can run side by side on one machine.
control_socket_disable = True


def when_ready(server):
    if workers > 1 and not SHARED_LIMITS:
        server.log.warning(
            "%d workers count rate limits each on its own: set RATELIMIT_STORAGE_URI", workers
        )


def _few_malloc_arenas():
    """glibc gives threads malloc arenas of their own, up to eight per core, and
    each keeps the memory it once held: two arenas keep a threaded worker's resident
    memory lower. A no-op where the C library is not glibc."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass


def post_fork(server, worker):
    """Private links are redacted in every gunicorn line, errors included."""
    _few_malloc_arenas()
    for name in ("gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def post_worker_init(worker):
    """The request deadline, which gunicorn has no setting of its own for. And the
    app, loaded by now and kept as long as the worker lives, moved out of the garbage
    collector's sight: otherwise every full collection walks all its objects again."""
    worker.request_timeout = REQUEST_TIMEOUT
    gc.freeze()
