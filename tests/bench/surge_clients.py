"""The people of the surge benchmark, as plain HTTP clients on loopback.

Each is a few threads with `http.client`, bounded in count and in time: a
closed-loop crowd that opens the event page and RSVPs, a probe that opens the
page every 100 ms, two hundred people pressing RSVP in the same second, and slow
clients that trickle a request one byte a second. Used by `bench_surge.py`.
"""

import http.client
import math
import re
import socket
import threading
import time
from collections import Counter
from http.cookies import SimpleCookie
from urllib.parse import urlencode

HOST = "127.0.0.1"
_CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
# What a dropped connection looks like to a client: the server reset or closed it.
_RESETS = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


def percentile(values, p: float) -> float | None:
    """Nearest-rank percentile, in the values' own unit; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary_ms(seconds: list[float]) -> dict:
    """Count, p50, p99 and max of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else None,
    }


def failure_name(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, _RESETS):
        return "reset"
    return type(exc).__name__


class Browser:
    """One person: a keep-alive connection to 127.0.0.1 and a cookie jar."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.used = False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.used = False

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, bytes]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for _ in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            reused = self.used
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
            except _RESETS:
                # A kept-alive connection the server closed while idle: one fresh try.
                self.close()
                if not reused:
                    raise
                continue
            except BaseException:
                self.close()
                raise
            self.used = True
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
            if response.will_close:
                self.close()
            return response.status, data
        raise http.client.RemoteDisconnected("closed twice")


def csrf_token(page: bytes) -> str | None:
    found = _CSRF.search(page)
    return found.group(1).decode() if found else None


def rsvp_form(token: str, address: str) -> dict:
    """The fields of templates/events/show.html's form, as a person fills them in."""
    return {"csrf_token": token, "email": address, "guests": "0", "consent": "y"}


def one_get(port: int, path: str, timeout: float) -> tuple[int, float]:
    """A new visitor: a fresh connection, one GET; returns status and seconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


class Probe:
    """Opens a page every `interval` seconds in a thread of its own until stopped."""

    def __init__(self, port: int, path: str, interval=0.1, timeout=10.0, limit=10_000):
        self.args = (port, path, timeout)
        self.interval = interval
        self.limit = limit
        self.times: list[float] = []
        self.failures: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(self.limit):
            if self._stop.is_set():
                return
            started = time.perf_counter()
            try:
                status, seconds = one_get(*self.args)
                if status == 200:
                    self.times.append(seconds)
                else:
                    self.failures[f"status {status}"] += 1
            except (OSError, http.client.HTTPException) as exc:
                self.failures[failure_name(exc)] += 1
            self._stop.wait(max(0.0, self.interval - (time.perf_counter() - started)))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=self.args[2] + 5)

    def result(self) -> dict:
        return {**summary_ms(self.times), "failures": dict(self.failures)}


def rsvp_crowd(port: int, slug: str, clients: int, seconds: float, tag: str) -> dict:
    """`clients` people, each in a loop: open the event page, RSVP with a new address.

    Closed loop: each waits for its answer before the next round, for `seconds`.
    An accepted RSVP is a 303 to the "check your email" page.
    """
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    post_times: list[float] = []
    answers: Counter = Counter()
    errors: Counter = Counter()
    rounds = [0] * clients

    def person(n: int) -> None:
        browser = Browser(port, timeout=10.0)
        for i in range(100_000):
            if time.monotonic() >= deadline:
                break
            rounds[n] = i + 1
            try:
                status, page = browser.request("GET", f"/events/{slug}")
                token = csrf_token(page) if status == 200 else None
                if token is None:
                    with lock:
                        errors[f"GET {status}"] += 1
                    time.sleep(0.05)
                    continue
                form = rsvp_form(token, f"crowd-{tag}-{n}-{i}@example.org")
                started = time.perf_counter()
                status, _ = browser.request("POST", f"/events/{slug}/rsvp", form)
                elapsed = time.perf_counter() - started
                with lock:
                    answers[status] += 1
                    post_times.append(elapsed)
                    if status != 303:
                        errors[f"POST {status}"] += 1
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors[failure_name(exc)] += 1
                time.sleep(0.05)
        browser.close()

    started = time.monotonic()
    threads = [threading.Thread(target=person, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "accepted": answers[303],
        "accepted_per_s": answers[303] / elapsed,
        "answers": {str(k): v for k, v in sorted(answers.items())},
        "post": summary_ms(post_times),
        "errors": dict(errors),
        "rounds_per_person": max(rounds, default=0),
    }


def rsvp_burst(port: int, slug: str, people: int, timeout: float, tag: str) -> dict:
    """`people` open the event page, wait for each other, then all press RSVP at once."""
    return _burst(
        port,
        [
            (f"/events/{slug}", f"/events/{slug}/rsvp", rsvp_form, f"burst-{tag}-{n}@example.org")
            for n in range(people)
        ],
        timeout,
    )


def confirm_burst(port: int, tokens: list[str], timeout: float) -> dict:
    """Each person opens their private page, they wait for each other, then all press
    Confirm at once: the moment places are taken."""
    return _burst(
        port,
        [
            (
                f"/rsvp/{t}",
                f"/rsvp/{t}",
                lambda csrf, _: {"csrf_token": csrf, "action": "confirm"},
                "",
            )
            for t in tokens
        ],
        timeout,
    )


def _burst(port: int, people: list[tuple], timeout: float) -> dict:
    """Each person (page, target, form, address) GETs the page, then all POST at once."""
    barrier = threading.Barrier(len(people), timeout=timeout + 30)
    lock = threading.Lock()
    answers: Counter = Counter()
    post_times: list[float] = []
    get_failures: Counter = Counter()

    def person(page_path: str, target: str, form, address: str) -> None:
        browser = Browser(port, timeout=timeout)
        token = None
        try:
            status, page = browser.request("GET", page_path)
            token = csrf_token(page) if status == 200 else None
            if token is None:
                with lock:
                    get_failures[f"status {status}"] += 1
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                get_failures[failure_name(exc)] += 1
        browser.close()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        if token is None:
            return
        started = time.perf_counter()
        try:
            status, _ = browser.request("POST", target, form(token, address))
            outcome = str(status)
        except (OSError, http.client.HTTPException) as exc:
            outcome = failure_name(exc)
        elapsed = time.perf_counter() - started
        browser.close()
        with lock:
            answers[outcome] += 1
            post_times.append(elapsed)

    threads = [threading.Thread(target=person, args=p, daemon=True) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=2 * timeout + 60)
    return {
        "people": len(people),
        "answers": dict(sorted(answers.items())),
        "answered": sum(v for k, v in answers.items() if k.isdigit()),
        "resets": answers["reset"],
        "timeouts": answers["timeout"],
        "get_failures": dict(get_failures),
        "post": summary_ms(post_times),
    }


def slowloris(port: int, path: str, sockets: int, seconds: float) -> dict:
    """`sockets` slow clients hold connections open, sending one header byte a
    second, while a probe opens `path` every 100 ms for `seconds`."""
    slow: list[socket.socket] = []
    opened = Counter()
    start = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nX-Slow: ".encode()
    for _ in range(sockets):
        try:
            s = socket.create_connection((HOST, port), timeout=5)
            s.sendall(start)
            slow.append(s)
            opened["open"] += 1
        except OSError as exc:
            opened[failure_name(exc)] += 1
    stop = threading.Event()
    dropped = Counter()

    def drip() -> None:
        for _ in range(int(seconds) + 60):
            if stop.wait(1.0):
                return
            for s in list(slow):
                try:
                    s.sendall(b"a")
                except OSError as exc:
                    dropped[failure_name(exc)] += 1
                    slow.remove(s)
                    s.close()

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(1.0)  # the slow clients reach the server's threads first
        with Probe(port, path) as probe:
            time.sleep(seconds)
    finally:
        stop.set()
        dripper.join(timeout=5)
        still_open = len(slow)
        for s in slow:
            s.close()
    return {
        "sockets": sockets,
        "connected": dict(opened),
        "dropped_by_server": dict(dropped),
        "still_open_at_end": still_open,
        "probe": probe.result(),
    }
