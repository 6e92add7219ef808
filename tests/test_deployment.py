"""Several machines, as the README's "Deploying on several machines" sets them up: two
`gunicorn wsgi:app` servers and two `flask mail work` workers on one PostgreSQL
database and one Redis, with nothing shared but those two and the environment.

People use the servers as nginx would hand them out, each request to either: they
load a form from one and send it to the other, confirm and cancel from the links in
their emails. Places, the waitlist, rate limits and the emails must come out as if
there were one machine.
"""

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from conftest import create_postgres_database, drop_postgres_database, free_port
from helpers import csrf_token, manage_link
from sqlalchemy import select

from vigil import create_app
from vigil.crypto import new_key
from vigil.extensions import db
from vigil.models import Event, OutboxMessage, OutboxStatus, Rsvp, RsvpStatus
from vigil.throttling import client_key, key_for_address

pytestmark = pytest.mark.postgresql  # one database shared by every machine

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "vigil"]
GUNICORN = Path(sys.executable).with_name("gunicorn")
REDIS_URL = "redis://127.0.0.1:6379"
CAPACITY = 3
PEOPLE = 6
TITLE = "Vigil at the embassy"

EVENTS = """
[[events]]
slug = "embassy-vigil"
title = "{title}"
timezone = "Europe/London"
starts = {starts}
ends = {ends}
venue = "Opposite the Chinese Embassy"
street_address = "49-59 Portland Place"
locality = "London"
postcode = "W1B 1JL"
capacity = {capacity}

[[events]]
slug = "open-vigil"
title = "Open vigil"
timezone = "Europe/London"
starts = {starts}
ends = {ends}
venue = "Parliament Square"
street_address = "Parliament Square"
locality = "London"
postcode = "SW1P 3BD"
"""


def wait_for(condition, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


class Browser:
    """One person's browser behind the proxy: its own cookies (sent to both servers,
    as nginx would), its client address in X-Forwarded-For."""

    def __init__(self, client_address: str):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.client_address = client_address

    def open(self, url: str, form: dict | None = None) -> tuple[int, str, dict]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data)
        request.add_header("X-Forwarded-For", self.client_address)
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    def submit(self, page_url: str, action_url: str, form: dict) -> tuple[int, str, dict]:
        """Load the page from one server, send its form to (perhaps) another."""
        status, page, _ = self.open(page_url)
        assert status == 200, (page_url, status)
        return self.open(action_url, {"csrf_token": csrf_token(page), **form})


def rsvp_form(address: str) -> dict:
    return {"email": address, "guests": "0", "consent": "y"}


class Machines:
    """The processes of the deployment, each with an instance folder of its own."""

    def __init__(self, tmp_path: Path, env: dict):
        self.tmp_path, self.env = tmp_path, env
        self.processes: list[subprocess.Popen] = []
        self.folders: list[Path] = []
        self.logs: list[Path] = []

    def environment(self, name: str, **extra) -> dict:
        folder = self.tmp_path / name
        self.folders.append(folder)
        return {**self.env, "VIGIL_INSTANCE_PATH": str(folder), **extra}

    def run(self, name: str, *args: str) -> None:
        subprocess.run(
            [*FLASK, *args], cwd=ROOT, env=self.environment(name), check=True, capture_output=True
        )

    def start(self, name: str, command: list[str], **extra) -> tuple[subprocess.Popen, Path]:
        log = self.tmp_path / f"{name}.log"
        self.logs.append(log)
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environment(name, **extra),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process, log

    def app_server(self, name: str) -> str:
        port = free_port()
        self.start(name, [str(GUNICORN), "wsgi:app"], VIGIL_BIND=f"127.0.0.1:{port}")
        return f"http://127.0.0.1:{port}"

    def mail_worker(self, name: str) -> tuple[subprocess.Popen, Path]:
        return self.start(name, [*FLASK, "mail", "work"])

    def stop(self, processes=None) -> None:
        """SIGTERM: gunicorn finishes its requests, a worker the message in hand."""
        processes = self.processes if processes is None else processes
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()}" for log in self.logs)


def healthy(base: str) -> bool:
    try:
        urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
        return True
    except OSError:
        return False


def event_file(tmp_path: Path) -> Path:
    zone = ZoneInfo("Europe/London")
    starts = (datetime.now(UTC) + timedelta(days=14)).astimezone(zone).replace(tzinfo=None)
    starts = starts.replace(hour=11, minute=0, second=0, microsecond=0)
    path = tmp_path / "events.toml"
    path.write_text(
        EVENTS.format(
            title=TITLE,
            starts=starts.isoformat(),
            ends=(starts + timedelta(hours=2)).isoformat(),
            capacity=CAPACITY,
        )
    )
    return path


def rsvps_by_address(app, slug: str) -> dict[str, Rsvp]:
    """What the database holds, read as one more machine would (same data key)."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        rows = db.session.scalars(
            select(Rsvp).where(Rsvp.event_id == event.id).order_by(Rsvp.queued_at, Rsvp.id)
        ).all()
        db.session.expunge_all()
        return {row.email: row for row in rows}


def places_held(rows: dict[str, Rsvp]) -> int:
    return sum(r.places for r in rows.values() if r.status == RsvpStatus.CONFIRMED)


def outbox_settled(app) -> bool:
    with app.app_context():
        statuses = set(db.session.scalars(select(OutboxMessage.status).distinct()))
        db.session.remove()
    return statuses == {OutboxStatus.SENT}


def mail_to(smtp, address: str) -> list:
    with smtp.handler.lock:
        return [m for m in smtp.handler.messages if m["To"] == address]


def sent_by_worker(log: Path) -> int:
    return sum(int(n) for n in re.findall(r"mail worker: \{[^}]*'sent': (\d+)", log.read_text()))


def forget_counters(app, clients: list[str], addresses: list[str]) -> int:
    """Delete the counters this test made in Redis, found by Vigil's own keys for them."""
    with app.app_context():
        ours = {key_for_address(a) for a in addresses}
    for client in clients:
        with app.test_request_context(environ_base={"REMOTE_ADDR": client}):
            ours.add(client_key())
    store = redis.Redis.from_url(REDIS_URL)
    removed = 0
    for pattern in ("*client:*", "*address:*"):
        for key in store.scan_iter(match=pattern, count=1000):
            if any(part in ours for part in key.decode().split("/")):
                removed += store.delete(key)
    store.close()
    return removed


def test_two_app_machines_and_two_workers_behave_as_one(tmp_path, smtp):
    url = create_postgres_database()
    secret = "deployment-" + secrets.token_hex(16)  # also keeps these counters apart
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("VIGIL_", "MAIL_", "RATELIMIT_", "DATABASE_", "WEB_", "SECRET_"))
    }
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=secret,
        VIGIL_DATA_KEY=new_key(),
        VIGIL_AUDIT_KEY=secrets.token_hex(32),
        RATELIMIT_STORAGE_URI=REDIS_URL,
        VIGIL_PROXIES="1",
        VIGIL_BASE_URL="http://vigil.test",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp.port),
        WEB_CONCURRENCY="1",
        VIGIL_FORM_LIMIT_PER_CLIENT="3 per hour",
        VIGIL_FORM_LIMIT_PER_ADDRESS="3 per hour",
        # One message per claim, each slow to deliver: both workers take part.
        VIGIL_MAIL_BATCH_SIZE="1",
        VIGIL_MAIL_POLL_SECONDS="0.1",
    )
    smtp.handler.delay = 0.2
    machines = Machines(tmp_path, env)
    checker = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp_path / "checker"),
            "SECRET_KEY": secret,
            "VIGIL_DATA_KEY": env["VIGIL_DATA_KEY"],
            "VIGIL_AUDIT_KEY": env["VIGIL_AUDIT_KEY"],
            "RATELIMIT_STORAGE_URI": REDIS_URL,
        }
    )
    people = [f"person{i}@example.org" for i in range(PEOPLE)]
    flooders = [f"flood{i}@example.org" for i in range(4)]
    clients = [f"198.51.100.{i + 1}" for i in range(PEOPLE)]
    clients += [f"203.0.113.{i + 1}" for i in range(4)] + ["203.0.113.50"]
    try:
        # Migrations run once, from any one machine; then the events.
        machines.run("migrate", "db", "upgrade")
        machines.run("migrate", "events", "import", str(event_file(tmp_path)))
        apps = [machines.app_server("app1"), machines.app_server("app2")]
        workers = [machines.mail_worker("worker1"), machines.mail_worker("worker2")]
        for base in apps:
            wait_for(lambda base=base: healthy(base), f"{base} up", timeout=30)
        for _, log in workers:
            wait_for(lambda log=log: "mail worker started" in log.read_text(), log.name)
        event_path, open_path = "/events/embassy-vigil", "/events/open-vigil"

        # (a) More people than places RSVP at once, each loading the form from one
        # server and sending it to the other.
        browsers = [Browser(client) for client in clients[:PEOPLE]]
        pages = [b.open(apps[i % 2] + event_path)[1] for i, b in enumerate(browsers)]
        start = threading.Barrier(PEOPLE)

        def send(i: int) -> tuple[int, str, dict]:
            form = {"csrf_token": csrf_token(pages[i]), **rsvp_form(people[i])}
            start.wait()
            return browsers[i].open(f"{apps[(i + 1) % 2]}{event_path}/rsvp", form)

        with ThreadPoolExecutor(PEOPLE) as pool:
            answers = list(pool.map(send, range(PEOPLE)))
        assert [status for status, _, _ in answers] == [200] * PEOPLE
        assert all("Check your email" in page for _, page, _ in answers)
        rows = rsvps_by_address(checker, "embassy-vigil")
        assert places_held(rows) == 0  # asking takes nothing
        assert {r.status for r in rows.values()} == {RsvpStatus.PENDING}

        # They all confirm at once from the links in their emails, each on the server
        # they did not use: places go to the first confirmations, the rest wait.
        links = []
        for i, address in enumerate(people):
            (message,) = wait_for(lambda a=address: mail_to(smtp, a), f"email to person{i}")
            assert message["Subject"] == f"Please confirm your RSVP: {TITLE}"
            links.append(apps[i % 2] + manage_link(message))
        confirm_pages = [browsers[i].open(links[i])[1] for i in range(PEOPLE)]
        together = threading.Barrier(PEOPLE)

        def confirm(i: int) -> tuple[int, str, dict]:
            form = {"csrf_token": csrf_token(confirm_pages[i]), "action": "confirm"}
            together.wait()
            return browsers[i].open(links[i], form)

        with ThreadPoolExecutor(PEOPLE) as pool:
            confirmed = list(pool.map(confirm, range(PEOPLE)))
        assert [status for status, _, _ in confirmed] == [200] * PEOPLE
        told_place = {
            people[i]
            for i, (_, page, _) in enumerate(confirmed)
            if "your RSVP is confirmed, and you have a place" in page
        }
        told_waitlist = {
            people[i]
            for i, (_, page, _) in enumerate(confirmed)
            if "confirmed. The event is full, so you are on the waitlist" in page
        }
        assert len(told_place) == CAPACITY and told_place | told_waitlist == set(people)
        rows = rsvps_by_address(checker, "embassy-vigil")
        assert all(r.confirm_by is None for r in rows.values())
        assert places_held(rows) == CAPACITY
        assert {a for a, r in rows.items() if r.status == RsvpStatus.CONFIRMED} == told_place
        assert {a for a, r in rows.items() if r.status == RsvpStatus.WAITLISTED} == told_waitlist
        first_waiting = next(a for a, r in rows.items() if r.status == RsvpStatus.WAITLISTED)

        # (b) Someone with a place cancels from their email's link on the other
        # server: the first on the waitlist gets the place, and an email saying so.
        leaving = sorted(told_place)[0]
        i = people.index(leaving)
        link = apps[(i + 1) % 2] + manage_link(mail_to(smtp, leaving)[0])
        status, page, _ = browsers[i].submit(link, link, {"action": "cancel"})
        assert status == 200 and "Your RSVP has been cancelled." in page
        wait_for(lambda: len(mail_to(smtp, first_waiting)) == 3, "promotion email")
        news = mail_to(smtp, first_waiting)[2]
        assert news["Subject"] == f"A place has opened up for you: {TITLE}"
        j = people.index(first_waiting)
        status, page, _ = browsers[j].open(apps[j % 2] + manage_link(news))
        assert "You have a place." in page
        rows = rsvps_by_address(checker, "embassy-vigil")
        assert rows[leaving].status == RsvpStatus.CANCELLED
        assert rows[first_waiting].status == RsvpStatus.CONFIRMED
        assert places_held(rows) == CAPACITY

        # (c) Rate limits count across both servers: one address from four clients
        # is never refused (its limit only stops emails), one client with four
        # addresses is, alternately to each server.
        statuses, retry_after = [], []
        for k in range(4):
            browser, base = Browser(clients[PEOPLE + k]), apps[k % 2]
            status, _, headers = browser.submit(
                apps[(k + 1) % 2] + open_path,
                f"{base}{open_path}/rsvp",
                rsvp_form("repeat@example.org"),
            )
            statuses.append(status)
            retry_after.append(headers.get("Retry-After"))
        flooder = Browser(clients[-1])
        for k, address in enumerate(flooders):
            status, _, headers = flooder.submit(
                apps[(k + 1) % 2] + open_path, f"{apps[k % 2]}{open_path}/rsvp", rsvp_form(address)
            )
            statuses.append(status)
            retry_after.append(headers.get("Retry-After"))
        assert statuses == [200] * 4 + [200, 200, 200, 429]
        assert int(retry_after[7]) > 0
        assert set(rsvps_by_address(checker, "open-vigil")) == {"repeat@example.org", *flooders[:3]}
        store = redis.Redis.from_url(REDIS_URL)
        with checker.app_context():
            counted = key_for_address("repeat@example.org")
        assert any(counted in key.decode() for key in store.scan_iter(match="*address:*"))
        store.close()

        # (d) Every email arrives once, though two workers drain the outbox.
        expected = Counter(
            {(a, f"You have a place: {TITLE}"): 1 for a in told_place}
            | {(a, f"You are on the waitlist: {TITLE}"): 1 for a in told_waitlist}
        )
        for address in people:
            expected[(address, f"Please confirm your RSVP: {TITLE}")] += 1
        expected[(leaving, f"Your RSVP has been cancelled: {TITLE}")] += 1
        expected[(first_waiting, f"A place has opened up for you: {TITLE}")] += 1
        for address in ["repeat@example.org", *flooders[:3]]:
            expected[(address, "You have a place: Open vigil")] += 1
        total = sum(expected.values())
        wait_for(lambda: len(smtp.handler.messages) >= total, "every email")
        wait_for(lambda: outbox_settled(checker), "the outbox drained")
        machines.stop([process for process, _ in workers])  # nothing more can be sent
        received = Counter((m["To"], m["Subject"]) for m in smtp.handler.messages)
        assert received == expected
        assert len({m["Message-ID"] for m in smtp.handler.messages}) == total
        sent = [sent_by_worker(log) for _, log in workers]
        assert sum(sent) == total and min(sent) > 0, sent  # both took part

        # Nothing of the deployment lives on the machines themselves.
        machines.stop()
        for folder in machines.folders:
            assert not folder.exists() or list(folder.iterdir()) == [], folder
    except AssertionError:
        machines.stop()
        print(machines.output())
        raise
    finally:
        machines.stop()
        forget_counters(checker, clients, people + flooders + ["repeat@example.org"])
        with checker.app_context():
            db.engine.dispose()
        drop_postgres_database(url)
