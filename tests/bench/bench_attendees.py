"""Organiser attendee list and CSV export with many RSVPs on one event.

    .venv/bin/python tests/bench/bench_attendees.py [--rsvps 100000] [--engine sqlite|postgresql]

In-process through the Flask test client, logged in as an admin. Reports the list
page's median time over repeated requests (first page, a deep page, a search), the
CSV export's time, and (in a second, traced run) its peak Python memory.
"""

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import PASSWORD, create_postgres_database, drop_postgres_database  # noqa: E402
from helpers import csrf_token  # noqa: E402

from vigil import create_app, organisers  # noqa: E402
from vigil.extensions import db  # noqa: E402
from vigil.models import Event, Rsvp  # noqa: E402
from vigil.people import email_lookup  # noqa: E402


def seed(count: int) -> str:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    event = Event(
        slug="bench",
        title="Bench",
        venue="v",
        street_address="a",
        locality="l",
        postcode="p",
        timezone="Europe/London",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status="published",
    )
    db.session.add(event)
    db.session.flush()
    base = datetime.now(UTC) - timedelta(days=5)
    for offset in range(0, count, 10_000):
        rows = [
            dict(
                event_id=event.id,
                name=f"Person {i} 刘",
                email=f"person{i}@example.org",
                email_key=email_lookup(f"person{i}@example.org"),
                guests=i % 3,
                status="confirmed",
                wants_updates=False,
                queued_at=base,
                created_at=base + timedelta(seconds=i),
                updated_at=base,
            )
            for i in range(offset, min(offset + 10_000, count))
        ]
        db.session.execute(Rsvp.__table__.insert(), rows)
    organisers.create_organiser("bench@vigil.example", "Bench", "admin", PASSWORD)
    db.session.commit()
    return event.slug


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = action()
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rsvps", type=int, default=100_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/b.sqlite3" if args.engine == "sqlite" else create_postgres_database()
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "INSTANCE_PATH": tmp,
                "VIGIL_LOGIN_FAILURE_DELAY_SECONDS": 0,
            }
        )
        with app.app_context():
            db.create_all()
            slug = seed(args.rsvps)
        client = app.test_client()
        page = client.get("/organiser/login").get_data(as_text=True)
        client.post(
            "/organiser/login",
            data={
                "csrf_token": csrf_token(page),
                "email": "bench@vigil.example",
                "password": PASSWORD,
            },
        )
        listing = f"/organiser/events/{slug}/attendees"
        token = csrf_token(client.get(listing).get_data(as_text=True))
        first = median_ms(lambda: client.get(listing), 20)
        deep = median_ms(
            lambda: client.post(listing, data={"csrf_token": token, "page": "1500"}), 20
        )
        search = median_ms(
            lambda: client.post(listing, data={"csrf_token": token, "q": "person4242"}), 20
        )
        export = f"/organiser/events/{slug}/attendees.csv"
        t = time.perf_counter()
        size = sum(len(chunk) for chunk in client.get(export).response)
        export_s = time.perf_counter() - t
        # Memory separately: tracing slows Python down several times over.
        tracemalloc.start()
        sum(len(chunk) for chunk in client.get(export).response)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        with app.app_context():
            db.engine.dispose()
    finally:
        if args.engine == "postgresql":
            drop_postgres_database(url)
    print(f"{args.rsvps} RSVPs on {args.engine}")
    print(f"attendee list, first page:   median {first:.1f} ms")
    print(f"attendee list, page 1500:    median {deep:.1f} ms")
    print(f"attendee list, search:       median {search:.1f} ms")
    print(
        f"CSV export: {size / 1e6:.1f} MB in {export_s:.2f} s, "
        f"peak traced memory {peak / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
