"""A gunicorn worker whose threads only ever see whole requests.

gunicorn's gthread worker gives a connection to a thread as soon as it turns
readable, and the thread then blocks until the rest of the request arrives: a few
dozen slow clients ("slowloris"), each sending a header line now and then, hold
every thread and the event page stops answering. This worker reads each request's
head, and a small body, in its event loop without blocking, and only then gives
the connection to a thread, with the bytes pushed back into gunicorn's own parser.
A client that has not sent its request by the deadline is closed before any
thread touches it, and so is one whose head outgrows what gunicorn would accept.

Bodies that are chunked, larger than `body_limit` or announced with `Expect:
100-continue` are still read by a thread, as in gthread: Vigil's forms are a few
kilobytes, and the app refuses a body over MAX_CONTENT_LENGTH (64 KiB by default)
from its Content-Length alone.

Every worker accepts from the one listening socket, and a burst of keep-alive
connections can all land on one worker while another idles, halving what the
pair serves. So a connection is closed after `requests_per_connection` requests,
and a worker with every thread busy holds back from accepting for
`busy_accept_delay`, leaving the connection to a worker with a free thread.

Only gunicorn.conf.py names this module; the app never imports it.
"""

import selectors
import threading
import time
from dataclasses import dataclass, field
from functools import partial

from gunicorn import http
from gunicorn.errors import ConfigError
from gunicorn.http.message import DEFAULT_MAX_HEADERFIELD_SIZE, MAX_HEADERS, MAX_REQUEST_LINE
from gunicorn.workers.gthread import ThreadWorker

HEAD_END = b"\r\n\r\n"
READ_SIZE = 64 * 1024
# Longer lengths (a gigabyte and up) are left to gunicorn to refuse.
MAX_LENGTH_DIGITS = 9


def head_limit(cfg) -> int:
    """The longest head gunicorn's parser accepts under `cfg`'s limits, in bytes."""
    line = cfg.limit_request_line
    if line <= 0 or line > MAX_REQUEST_LINE:
        line = MAX_REQUEST_LINE
    fields = cfg.limit_request_fields
    if fields <= 0 or fields > MAX_HEADERS:
        fields = MAX_HEADERS
    field_size = cfg.limit_request_field_size
    if field_size <= 0:
        field_size = DEFAULT_MAX_HEADERFIELD_SIZE
    # an empty line allowed before the request line, the line, the fields, the end
    return 2 + line + 2 + fields * (field_size + 2) + 2


def body_length(head: bytes) -> int | None:
    """The body's length by the head's Content-Length (0 without one), or None when
    gunicorn reads the body some other way (chunked, after `100 Continue`) or
    refuses the request from its head alone (a repeated or malformed length)."""
    lengths = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.lower()
        if name in (b"transfer-encoding", b"expect"):
            return None
        if name == b"content-length":
            lengths.append(value.strip(b" \t"))
    if not lengths:
        return 0
    if len(lengths) == 1 and lengths[0].isdigit() and len(lengths[0]) <= MAX_LENGTH_DIGITS:
        return int(lengths[0])
    return None


@dataclass
class Arrival:
    """What a connection has sent of its next request, and until when it may send the rest."""

    deadline: float
    data: bytearray = field(default_factory=bytearray)
    # The request's whole length, once its head is in and its body is one to wait for.
    needed: int | None = None

    def add(self, chunk: bytes, body_limit: int) -> bool:
        """Take `chunk`; whether a thread can now read the request without waiting."""
        searched = max(len(self.data) - len(HEAD_END) + 1, 0)
        self.data += chunk
        if self.needed is None:
            end = self.data.find(HEAD_END, searched)
            if end < 0:
                return False
            length = body_length(bytes(self.data[:end]))
            if length is None or length > body_limit:
                return True  # a thread reads this body, as in gthread
            self.needed = end + len(HEAD_END) + length
        return len(self.data) >= self.needed

    def head_outgrows(self, limit: int) -> bool:
        return self.needed is None and len(self.data) > limit


class BufferingThreadWorker(ThreadWorker):
    """gthread, with each request read in the event loop before a thread takes it."""

    #: Seconds a client has to send a request; gunicorn.conf.py sets it.
    request_timeout = 10.0
    #: The largest body (by Content-Length) read here rather than by a thread.
    body_limit = 64 * 1024
    #: Requests answered on one connection before it is closed (nginx's
    #: keepalive_requests). Every worker accepts from one socket, so a burst of
    #: keep-alive connections can all land on one worker while another idles;
    #: the client's next connection goes to whichever is free to accept it first.
    requests_per_connection = 100
    #: Seconds a worker whose threads are all busy leaves a new connection in the
    #: listen queue for a worker with a free thread, before taking it itself.
    busy_accept_delay = 0.005

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_limit = head_limit(self.cfg)
        # Connections still sending a request, oldest (so first to expire) first.
        self.arriving: dict[object, Arrival] = {}
        self.in_flight = 0  # requests given to a thread and not yet answered
        self.in_flight_lock = threading.Lock()
        self.accept_after: float | None = None  # while holding back from accepting

    def accept(self, listener):
        """A worker with every thread busy holds back a moment before it accepts, so
        a connection goes to a worker that can answer it now when there is one.
        Only a moment: when every worker is busy, each still accepts in turn."""
        if self.accept_after is None and self.in_flight >= self.cfg.threads:
            self.accept_after = time.monotonic() + self.busy_accept_delay
            super().set_accept_enabled(False)
            return
        self.accept_after = None
        super().accept(listener)

    def wait_for_and_dispatch_events(self, timeout):
        due = self.accept_after
        if due is not None:
            # Wake when the hold-back ends; once it has, only look (timeout 0):
            # the connection held back is either still waiting or taken.
            timeout = min(timeout, max(due - time.monotonic(), 0.0))
        super().wait_for_and_dispatch_events(timeout)
        if due is not None and self.accept_after == due and self._accepting:
            # Listening again, and nothing was waiting: another worker took it.
            self.accept_after = None

    def set_accept_enabled(self, enabled):
        if enabled and self.accept_after is not None and time.monotonic() < self.accept_after:
            enabled = False  # still holding back (gunicorn's loop asks every turn)
        super().set_accept_enabled(enabled)

    @classmethod
    def check_config(cls, cfg, log):
        super().check_config(cfg, log)
        if (
            cfg.is_ssl
            or cfg.proxy_protocol != "off"
            or cfg.http2_cleartext in ("prior-knowledge", "both")
        ):
            raise ConfigError(
                f"{cls.__name__} reads plain HTTP/1.1 only: end TLS, the PROXY "
                "protocol and HTTP/2 at the proxy in front of it"
            )

    def handle_request(self, req, conn):
        conn.answered = getattr(conn, "answered", 0) + 1
        if conn.answered >= self.requests_per_connection:
            req.must_close = True  # answered with "Connection: close"
        return super().handle_request(req, conn)

    def enqueue_req(self, conn):
        """Every way to a thread passes here (a new connection, one woken from
        keep-alive, bytes pipelined behind a response): the request is read first."""
        pending = conn.parser.unreader.take_buffered() if conn.parser else b""
        arrival = Arrival(deadline=time.monotonic() + self.request_timeout)
        if arrival.add(pending, self.body_limit):
            self.hand_over(conn, arrival)
            return
        conn.sock.setblocking(False)
        self.arriving[conn] = arrival
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn, sock):
        arrival = self.arriving[conn]
        try:
            chunk = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.drop(conn)  # the client went away
        elif arrival.add(chunk, self.body_limit):
            self.poller.unregister(sock)
            del self.arriving[conn]
            self.hand_over(conn, arrival)
        elif arrival.head_outgrows(self.head_limit):
            self.drop(conn)

    def hand_over(self, conn, arrival: Arrival):
        """Give the request to a thread, its bytes back in the parser as if just read."""
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(arrival.data))
        conn.data_ready = True  # gthread's own wait for a first byte is moot
        with self.in_flight_lock:
            self.in_flight += 1
        super().enqueue_req(conn)

    def handle(self, conn):
        """In a thread. Counted done as soon as the thread is free again, before the
        event loop hears of it: a connection arriving meanwhile is not held back."""
        try:
            return super().handle(conn)
        finally:
            with self.in_flight_lock:
                self.in_flight -= 1

    def drop(self, conn):
        self.poller.unregister(conn.sock)
        del self.arriving[conn]
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """Also close connections whose request has not arrived by its deadline."""
        super().murder_pending()
        now = time.monotonic()
        while self.arriving:
            conn, arrival = next(iter(self.arriving.items()))
            if arrival.deadline > now:
                break
            self.log.debug("Closing a connection whose request did not arrive in time")
            self.drop(conn)
