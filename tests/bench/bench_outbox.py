"""Outbox delivery throughput: N queued messages to a local SMTP sink.

    .venv/bin/python tests/bench/bench_outbox.py [--messages 10000] [--prerendered]

By default the messages are queued by real RSVPs, as the app queues them, so the
worker renders each one (its template, its private link, its calendar file) before
sending it; `--prerendered` queues finished messages instead and times delivery alone.

Reports messages per second for one worker on SQLite and for one and two workers on
PostgreSQL (VIGIL_TEST_POSTGRES_URL, default the local server). Each worker is a
real `flask --app vigil mail work --once` process; the time runs from starting the
workers to the last message arriving at the sink, process start-up included.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import create_postgres_database, drop_postgres_database, free_port  # noqa: E402

from vigil import create_app, rsvps  # noqa: E402
from vigil.crypto import new_key  # noqa: E402
from vigil.event_files import seed  # noqa: E402
from vigil.extensions import db  # noqa: E402
from vigil.models import Event, OutboxMessage  # noqa: E402


class Sink:
    """Accepts everything and only counts: the bench measures Vigil, not the sink."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def fill_outbox(database_url: str, count: int, prerendered: bool) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": tempfile.mkdtemp(),
        }
    )
    text = "You have a place at this event.\n\n" + "Details of the event. " * 20
    html = "<p>" + text.replace("\n", "<br>") + "</p>"
    now = datetime.now(UTC)
    with app.app_context():
        db.create_all()
        if not prerendered:
            seed(date.today())
            event = db.session.scalars(select(Event).order_by(Event.starts_at.desc())).first()
            for i in range(count):
                rsvps.create_rsvp(event, email=f"p{i}@example.org")
                if i % 500 == 499:
                    db.session.commit()
            db.session.commit()
            db.engine.dispose()
            return
        rows = [
            dict(
                kind="bench",
                dedupe_key=f"bench:{uuid.uuid4().hex}",
                recipient=f"p{i}@example.org",
                subject=f"Bench message {i}",
                body_text=text,
                body_html=html,
                message_id=f"<{uuid.uuid4().hex}@bench>",
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for i in range(count)
        ]
        db.session.execute(OutboxMessage.__table__.insert(), rows)
        db.session.commit()
        db.engine.dispose()


def run_workers(database_url: str, port: int, workers: int, sink: Sink, count: int) -> float:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "VIGIL_INSTANCE_PATH": tempfile.mkdtemp(),
    }
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "vigil", "mail", "work", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(workers)
    ]
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(out.decode())
    elapsed = time.perf_counter() - start
    if sink.count != count:
        raise SystemExit(f"sink received {sink.count} of {count}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--prerendered", action="store_true")
    args = parser.parse_args()
    n = args.messages
    # One data key for the filling app and the worker processes, which have their own
    # instance folders: otherwise each would make a key of its own.
    os.environ.setdefault("VIGIL_DATA_KEY", new_key())
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            fill_outbox(url, n, args.prerendered)
            sink.count = 0
            results.append(("SQLite", 1, run_workers(url, controller.port, 1, sink, n)))
        for workers in (1, 2):
            url = create_postgres_database()
            try:
                fill_outbox(url, n, args.prerendered)
                sink.count = 0
                results.append(
                    ("PostgreSQL", workers, run_workers(url, controller.port, workers, sink, n))
                )
            finally:
                drop_postgres_database(url)
    finally:
        controller.stop()
    queued = "finished messages" if args.prerendered else "messages queued by RSVPs, rendered"
    print(f"{n} {queued}, batch size {os.environ.get('VIGIL_MAIL_BATCH_SIZE', 50)}")
    print(f"{'database':<12}{'workers':>8}{'seconds':>10}{'messages/s':>12}")
    for name, workers, seconds in results:
        print(f"{name:<12}{workers:>8}{seconds:>10.2f}{n / seconds:>12.0f}")


if __name__ == "__main__":
    main()
