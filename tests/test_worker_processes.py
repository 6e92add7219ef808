"""Real worker processes: killed mid-batch, stopped by SIGTERM, and two draining at once."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from vigil import rsvps
from vigil.extensions import db
from vigil.models import Event, OutboxMessage, OutboxStatus
from vigil.worker import drain

ROOT = Path(__file__).resolve().parent.parent


def start_worker(app, smtp_port: int, *args: str, **env) -> subprocess.Popen:
    """A real `flask mail work` process on the app's database, with the app's data key."""
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "VIGIL_INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": "worker-test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "VIGIL_BASE_URL": "http://vigil.test",
        "VIGIL_MAIL_POLL_SECONDS": "0.1",
        **{k: str(v) for k, v in env.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "vigil", "mail", "work", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def queue(app, event, count: int) -> list[str]:
    addresses = [f"w{i}@example.org" for i in range(count)]
    with app.app_context():
        stored = db.session.get(Event, event.id)
        for address in addresses:
            rsvps.create_rsvp(stored, email=address)
        db.session.commit()
    return addresses


def statuses(app) -> Counter:
    with app.app_context():
        return Counter(db.session.scalars(select(OutboxMessage.status)))


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_worker_killed_mid_batch_loses_nothing(smtp_app, smtp, database_url, make_event):
    event = make_event()
    addresses = queue(smtp_app, event, 30)
    smtp.handler.delay = 0.1
    worker = start_worker(smtp_app, smtp.port, VIGIL_MAIL_BATCH_SIZE=5, VIGIL_MAIL_LEASE_SECONDS=2)
    try:
        wait_for(lambda: len(smtp.handler.messages) >= 7)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=10)
    assert len(smtp.handler.messages) < 30  # it really died half-way
    smtp.handler.delay = 0
    time.sleep(2.2)  # the dead worker's lease runs out
    with smtp_app.app_context():
        drain()
    received = Counter(smtp.handler.recipients())
    assert set(received) == set(addresses)  # every message delivered
    assert sum(received.values()) - 30 <= 1  # at most the one message in flight twice
    assert statuses(smtp_app) == {OutboxStatus.SENT: 30}


def test_sigterm_stops_the_worker_cleanly_after_its_batch(smtp_app, smtp, database_url, make_event):
    event = make_event()
    queue(smtp_app, event, 10)
    smtp.handler.delay = 0.1
    worker = start_worker(smtp_app, smtp.port, VIGIL_MAIL_BATCH_SIZE=10)
    wait_for(lambda: len(smtp.handler.messages) >= 2)
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=20)
    assert worker.returncode == 0, output
    assert b"mail worker stopped" in output
    assert len(smtp.handler.messages) == 10  # the batch in hand was finished, not dropped
    assert statuses(smtp_app) == {OutboxStatus.SENT: 10}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # needs row locks
def test_two_workers_on_postgresql_deliver_every_message_exactly_once(app, smtp, make_event):
    addresses = queue(app, make_event(), 200)
    workers = [start_worker(app, smtp.port, "--once", VIGIL_MAIL_BATCH_SIZE=10) for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    sent_by = [int(o.decode().split("sent: ")[1].split()[0].rstrip(",")) for o in outputs]
    assert sum(sent_by) == 200 and min(sent_by) > 0  # both took part
    assert sorted(smtp.handler.recipients()) == sorted(addresses)  # each exactly once
    assert statuses(app) == {OutboxStatus.SENT: 200}
