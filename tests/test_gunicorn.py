"""The shipped server set-up: `gunicorn wsgi:app` from the project folder, as the
README says, with the configuration gunicorn finds there by itself."""

import errno
import http.client
import os
import select
import selectors
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from conftest import free_port
from helpers import csrf_token

from vigil.slow_clients import BufferingThreadWorker

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def serve(tmp_path, **env_overrides):
    """Start gunicorn on a fresh SQLite instance; returns the process and its address."""
    env = {**os.environ, "VIGIL_INSTANCE_PATH": str(tmp_path / "instance")}
    for name in ("DATABASE_URL", "MAIL_SERVER", "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY"):
        env.pop(name, None)
    env.update(env_overrides)
    flask = [sys.executable, "-m", "flask", "--app", "vigil"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    env["VIGIL_BIND"] = f"127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(GUNICORN), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
            return process, base, log
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(log.read_text())


def worker_pids(master: int) -> list[int]:
    """The master's child processes, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def test_without_a_shared_store_one_process_counts_every_rate_limit(tmp_path):
    process, _, log = serve(tmp_path)
    try:
        assert len(worker_pids(process.pid)) == 1
    finally:
        stop(process)
    assert "Using worker: vigil.slow_clients.BufferingThreadWorker" in log.read_text()


def test_with_redis_there_is_a_worker_per_core(tmp_path):
    process, _, _ = serve(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379")
    try:
        # The first worker may answer before the master has forked the others.
        deadline = time.monotonic() + 20
        while len(worker_pids(process.pid)) < os.cpu_count() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(worker_pids(process.pid)) == os.cpu_count()
    finally:
        stop(process)


def test_private_links_never_reach_the_access_log(tmp_path):
    token = "Qx7" * 14 + "A"
    process, base, log = serve(tmp_path)
    try:
        for path in (f"/rsvp/{token}", f"/volunteer/{token}/shifts.ics"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(base + path, timeout=5)
    finally:
        stop(process)
    text = log.read_text()
    assert '"GET /rsvp/[token] HTTP/1.1" 404' in text
    assert token not in text


# --- slow clients ----------------------------------------------------------------


def address(base: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(base)
    return parts.hostname, parts.port


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server ended the connection: a request never finished is never
    answered, so a readable socket can only mean it was closed."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@contextmanager
def slowloris(base: str, count: int):
    """`count` clients that start a request and send one more header line a second,
    never finishing it. Yields the number of them the server has closed so far."""
    start = f"GET / HTTP/1.1\r\nHost: {address(base)[0]}\r\n".encode()
    clients = [socket.create_connection(address(base), timeout=5) for _ in range(count)]
    for client in clients:
        client.sendall(start)
    closed = set()
    stop = threading.Event()

    def trickle():
        while not stop.wait(1.0):
            for n, client in enumerate(clients):
                if n in closed:
                    continue
                if closed_by_server(client):
                    closed.add(n)
                else:
                    client.sendall(f"X-Slow-{n}: still typing\r\n".encode())

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        yield closed
    finally:
        stop.set()
        trickler.join(timeout=5)
        for client in clients:
            client.close()


def test_slow_clients_leave_every_page_answering_quickly(tmp_path):
    process, base, _ = serve(tmp_path)
    try:
        with slowloris(base, 40) as closed:
            time.sleep(1.5)  # every slow client has sent its first lines
            slowest = 0.0
            until = time.monotonic() + 5
            while time.monotonic() < until:
                for path in ("/healthz", "/"):
                    began = time.monotonic()
                    with urllib.request.urlopen(base + path, timeout=5) as response:
                        assert response.status == 200
                        response.read()
                    slowest = max(slowest, time.monotonic() - began)
            # the slow clients were all still there, trickling, the whole time
            assert not closed
    finally:
        stop(process)
    assert slowest < 1.0, f"a page took {slowest:.2f} s"


def test_a_client_that_never_finishes_its_request_is_closed_at_the_deadline(tmp_path):
    process, base, _ = serve(tmp_path, VIGIL_REQUEST_TIMEOUT="1.5")
    try:
        client = socket.create_connection(address(base), timeout=5)
        began = time.monotonic()
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed_after = None
        while time.monotonic() - began < 10:
            readable = select.select([client], [], [], 0.25)[0]
            if readable and closed_by_server(client):
                closed_after = time.monotonic() - began
                break
            client.sendall(b"X-Slow: still typing\r\n")
        client.close()
    finally:
        stop(process)
    assert closed_after is not None, "the slow client was never closed"
    assert 1.5 <= closed_after < 4.0


class KeptOpen:
    """A reader that http.client cannot close: every response on a connection
    reads from it in turn."""

    def __init__(self, reader):
        self.reader = reader

    def __getattr__(self, name):
        return getattr(self.reader, name)

    def close(self):
        pass


def read_responses(sock: socket.socket):
    """Responses as they come on one connection, each read to its end."""
    reader = KeptOpen(sock.makefile("rb"))
    source = types.SimpleNamespace(makefile=lambda *args, **kwargs: reader)
    while True:
        response = http.client.HTTPResponse(source)
        response.begin()
        yield response.status, response.read()


def test_a_form_sent_in_two_parts_arrives_whole(tmp_path):
    process, base, _ = serve(tmp_path)
    try:
        cookies = CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
        token = csrf_token(browser.open(base + "/organiser/login", timeout=5).read().decode())
        cookie = "; ".join(f"{c.name}={c.value}" for c in cookies)
        body = urllib.parse.urlencode(
            {"csrf_token": token, "email": "nobody@example.org", "password": "not it at all"}
        ).encode()
        head = (
            "POST /organiser/login HTTP/1.1\r\n"
            f"Host: {address(base)[0]}\r\n"
            f"Cookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(address(base), timeout=5) as client:
            middle = len(head) + len(body) // 2  # the split falls inside the CSRF token
            client.sendall((head + body)[:middle])
            time.sleep(0.5)
            client.sendall((head + body)[middle:])
            status, page = next(read_responses(client))
    finally:
        stop(process)
    # the token (first) and the password (last) both arrived: a failed log-in, not a
    # missing-token 400
    assert status == 401
    assert b"do not match an active account" in page


def test_one_connection_carries_several_requests(tmp_path):
    process, base, _ = serve(tmp_path)
    host = address(base)[0]
    try:
        with socket.create_connection(address(base), timeout=5) as client:
            responses = read_responses(client)
            client.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            assert next(responses)[0] == 200
            # the second request, kept alive, arrives slowly like the first might have
            second = f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            client.sendall(second[:10])
            time.sleep(0.5)
            client.sendall(second[10:])
            status, page = next(responses)
            assert status == 200 and b"</html>" in page
            # two more sent at once, the last one closing the connection
            client.sendall(
                f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n"
                f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            assert [next(responses)[0], next(responses)[0]] == [200, 200]
            assert client.recv(1) == b""
    finally:
        stop(process)


def test_a_connection_is_closed_after_its_hundredth_request(tmp_path):
    """So keep-alive connections that all landed on one worker spread out again."""
    process, base, _ = serve(tmp_path)
    try:
        with socket.create_connection(address(base), timeout=5) as client:
            reader = KeptOpen(client.makefile("rb"))
            source = types.SimpleNamespace(makefile=lambda *args, **kwargs: reader)
            request = f"GET /healthz HTTP/1.1\r\nHost: {address(base)[0]}\r\n\r\n".encode()
            said = []
            for _ in range(100):
                client.sendall(request)
                response = http.client.HTTPResponse(source)
                response.begin()
                response.read()
                said.append((response.status, response.getheader("Connection")))
            assert said == [(200, "keep-alive")] * 99 + [(200, "close")]
            assert client.recv(1) == b""
    finally:
        stop(process)


class Listener:
    """A listening socket as the worker's poller sees it, counting accepts."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.accepted = 0

    def fileno(self):
        return self.sock.fileno()

    def setblocking(self, flag):
        self.sock.setblocking(flag)

    def accept(self):
        self.accepted += 1
        raise BlockingIOError(errno.EAGAIN, "counted only")


def busy_worker(threads: int, in_flight: int):
    """A BufferingThreadWorker's accepting parts, without a gunicorn around it."""
    worker = BufferingThreadWorker.__new__(BufferingThreadWorker)
    worker.cfg = types.SimpleNamespace(threads=threads)
    worker.poller = selectors.DefaultSelector()
    worker.sockets = [Listener()]
    worker._accepting = False
    worker.in_flight = in_flight
    worker.accept_after = None
    worker.nr_conns = 0
    worker.set_accept_enabled(True)
    return worker


def test_a_worker_with_every_thread_busy_holds_back_before_it_accepts():
    """So a worker with a free thread takes the connection; then it accepts in turn."""
    free, busy = busy_worker(threads=2, in_flight=1), busy_worker(threads=2, in_flight=2)
    try:
        check_hold_back(free, busy)
    finally:
        for worker in (free, busy):
            worker.poller.close()
            worker.sockets[0].sock.close()


def check_hold_back(free, busy):
    free.accept(free.sockets[0])
    assert free.sockets[0].accepted == 1
    busy.accept(busy.sockets[0])
    assert busy.sockets[0].accepted == 0 and not busy._accepting
    busy.set_accept_enabled(True)  # gunicorn's loop asks every turn: still holding back
    assert not busy._accepting
    time.sleep(busy.busy_accept_delay)
    busy.set_accept_enabled(True)
    assert busy._accepting  # the hold-back is over, even though every thread is busy
    busy.accept(busy.sockets[0])
    assert busy.sockets[0].accepted == 1


def test_a_head_longer_than_gunicorn_accepts_is_cut_off_without_waiting(tmp_path):
    process, base, _ = serve(tmp_path)
    try:
        client = socket.create_connection(address(base), timeout=5)
        began = time.monotonic()
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        line = b"X-Long: " + b"a" * 8000 + b"\r\n"  # within the field size limit
        try:
            for _ in range(100):  # 800 KB, never ending the head
                client.sendall(line)
        except OSError:
            pass  # cut off while sending
        select.select([client], [], [], 5)
        try:
            answer = client.recv(65536)
        except ConnectionResetError:
            answer = b""
        elapsed = time.monotonic() - began
        client.close()
    finally:
        stop(process)
    assert answer == b""  # no page for it
    assert elapsed < 3  # well before the 10 s deadline
