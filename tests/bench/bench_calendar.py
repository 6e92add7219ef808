"""Public feed speed: the full /calendar.ics for N events, and a conditional 304.

    .venv/bin/python tests/bench/bench_calendar.py [--events 1000] [--engine sqlite|postgresql]

Requests go through the Flask test client in-process (no network), so the figures
are the application's own time per request: median and 95th percentile. Four
cases: nothing changed (the feed built for this ETag is reused), a conditional
request (304, one aggregate query), one event changed since the last request
(the other events' serialised VEVENTs are reused), and a cold build with every
cache emptied, VTIMEZONEs included (as in a fresh process). The very first
request of the process is reported on its own line.
"""

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import create_postgres_database, drop_postgres_database  # noqa: E402

from vigil import create_app  # noqa: E402
from vigil.calendar import _vevent_bytes, _vtimezone_bytes  # noqa: E402
from vigil.extensions import db  # noqa: E402
from vigil.models import Event  # noqa: E402
from vigil.page_cache import page_cache  # noqa: E402


def seed_events(count: int) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    created = datetime.now(UTC) - timedelta(days=7)
    rows = [
        dict(
            uuid=str(uuid.uuid4()),
            slug=f"bench-{i}",
            title=f"Vigil {i}: free them all, 刘晓波",
            summary="Protesters will gather; bring candles.",
            description="",
            demands=[],
            venue="Opposite the Chinese Embassy",
            street_address="49-59 Portland Place",
            locality="London",
            postcode="W1B 1JL",
            transport="Nearest tubes: Great Portland Street",
            latitude=51.52,
            longitude=-0.145,
            timezone="Europe/London",
            starts_at=start + timedelta(hours=6 * i),
            ends_at=start + timedelta(hours=6 * i + 2),
            status="published",
            sequence=0,
            revision=0,
            created_at=created,
            updated_at=created,
        )
        for i in range(count)
    ]
    db.session.execute(Event.__table__.insert(), rows)
    db.session.commit()


def timed(client, headers, runs: int, expect: int, before=None) -> list[float]:
    times = []
    for _ in range(runs):
        if before:
            before()
        t = time.perf_counter()
        response = client.get("/calendar.ics", headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == expect, response.status_code
    return times


def report(label: str, times: list[float]) -> None:
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"{label:<30}{statistics.median(times):>10.1f}{p95:>10.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = (
        f"sqlite:///{tmp}/bench.sqlite3" if args.engine == "sqlite" else create_postgres_database()
    )
    try:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp}
        )
        with app.app_context():
            db.create_all()
            seed_events(args.events)
        client = app.test_client()
        started = time.perf_counter()
        first = client.get("/calendar.ics")
        first_ms = (time.perf_counter() - started) * 1000
        size = len(first.data)
        etag = first.headers["ETag"]
        full = timed(client, {}, 30, 200)
        conditional = timed(client, {"If-None-Match": etag}, 300, 304)

        def touch_one_event():
            with app.app_context():
                event = db.session.get(Event, 1 + int(time.time() * 1000) % args.events)
                event.summary = f"Changed at {time.perf_counter()}"
                db.session.commit()

        def forget_everything():
            _vevent_bytes.cache_clear()
            _vtimezone_bytes.cache_clear()
            with app.app_context():
                page_cache()._entries.clear()  # the rendered feeds too

        one_changed = timed(client, {}, 30, 200, before=touch_one_event)
        cold = timed(client, {}, 10, 200, before=forget_everything)
        with app.app_context():
            db.engine.dispose()
    finally:
        if args.engine == "postgresql":
            drop_postgres_database(url)
    print(f"{args.events} events on {args.engine}, feed {size / 1024:.0f} KiB")
    print(f"{'request':<30}{'median ms':>10}{'p95 ms':>10}")
    report("full feed, unchanged (200)", full)
    report("If-None-Match (304)", conditional)
    report("full feed, 1 event changed", one_changed)
    report("full feed, cold (no caches)", cold)
    print(f"{'first request of the process':<30}{first_ms:>10.1f}")


if __name__ == "__main__":
    main()
