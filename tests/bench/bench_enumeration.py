"""Can a stranger tell, from how long the RSVP form takes, whether an address had RSVPed?

    .venv/bin/python tests/bench/bench_enumeration.py [--addresses 200] [--engine sqlite]
        [--limited]

Starts the shipped gunicorn set-up, registers half the addresses an hour "ago" (as a
real attendee would have), then posts the RSVP form once for each of the addresses,
known and new in random order, each from a fresh browser, timing the answer over
HTTP. Only the first post can tell anything: after it, a new address is known too,
and past the per-address limit no more emails go. A threshold classifier is fitted
on half the timings and scored on the other half, over many random splits; the goal
is no better than 55% (a coin is 50%). `--limited` posts to an event with 50 places,
where every RSVP waits for confirmation and the known addresses have confirmed.
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_surge import Servers, create_database, drop_database, events_file, flask  # noqa: E402
from surge_clients import Browser, csrf_token, rsvp_form  # noqa: E402


def register_earlier(env: dict, slug: str, addresses: list[str]) -> None:
    """RSVP these addresses, as if an hour ago (no link was sent to them lately), and
    confirm them where that is needed, as real attendees would have."""
    os.environ.update(env)
    from sqlalchemy import select, update

    from vigil import create_app, rsvps
    from vigil.extensions import db
    from vigil.models import Event, OutboxMessage, utcnow

    app = create_app()
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        for address in addresses:
            result = rsvps.create_rsvp(event, email=address)
            if result.status == "pending":
                rsvps.confirm_rsvp(result.rsvp)
        earlier = utcnow() - timedelta(hours=1)
        db.session.execute(update(OutboxMessage).values(created_at=earlier))
        db.session.commit()
        db.engine.dispose()


def timed_post(port: int, slug: str, address: str) -> float:
    browser = Browser(port, timeout=30)
    try:
        status, page = browser.request("GET", f"/events/{slug}")
        assert status == 200, status
        form = rsvp_form(csrf_token(page), address)
        started = time.perf_counter()
        status, _ = browser.request("POST", f"/events/{slug}/rsvp", form)
        seconds = time.perf_counter() - started
        assert status == 303, status
        return seconds
    finally:
        browser.close()


def classifier_accuracy(samples: list[tuple[bool, float]], splits: int = 500) -> float:
    """Mean held-out accuracy of the best threshold (either way round) on a random half."""
    rng = random.Random(7)  # noqa: S311 - shuffling measurements, not secrets
    scores = []
    for _ in range(splits):
        shuffled = samples[:]
        rng.shuffle(shuffled)
        train, test = shuffled[: len(shuffled) // 2], shuffled[len(shuffled) // 2 :]
        best = (0.0, 0.0, True)
        for _, threshold in train:
            for slower_is_known in (True, False):
                hits = sum((t > threshold) == (known == slower_is_known) for known, t in train)
                best = max(best, (hits / len(train), threshold, slower_is_known))
        _, threshold, slower_is_known = best
        hits = sum((t > threshold) == (known == slower_is_known) for known, t in test)
        scores.append(hits / len(test))
    return statistics.mean(scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=200)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--limited", action="store_true", help="the event with 50 places")
    args = parser.parse_args()
    tag = secrets.token_hex(3)
    slug = f"enum-{tag}"
    instance = Path(tempfile.mkdtemp(prefix="vigil-enum-"))
    url = create_database() if args.engine == "postgresql" else None
    env = {
        **os.environ,
        "VIGIL_INSTANCE_PATH": str(instance),
        "SECRET_KEY": secrets.token_hex(32),
        # One client sends every post: only the per-address limit stays as shipped.
        "VIGIL_FORM_LIMIT_PER_CLIENT": "1000000 per minute",
    }
    env.pop("RATELIMIT_STORAGE_URI", None)
    env.pop("DATABASE_URL", None)
    if url:
        env["DATABASE_URL"] = url
    try:
        flask(env, "db", "upgrade")
        events_file(instance / "events.toml", slug, f"{slug}-fifty")
        flask(env, "events", "import", str(instance / "events.toml"))
        target = f"{slug}-fifty" if args.limited else slug
        half = args.addresses // 2
        known = [f"known{i}-{tag}@example.org" for i in range(half)]
        new = [f"new{i}-{tag}@example.org" for i in range(half)]
        register_earlier(env, target, known)
        trials = [(True, a) for a in known] + [(False, a) for a in new]
        random.Random(tag).shuffle(trials)  # noqa: S311 - the order of trials only
        with Servers(env, instance) as servers:
            _, port = servers.start("vigil", ["wsgi:app"], "/healthz")
            for _ in range(20):  # warm the worker up on addresses that are not counted
                timed_post(port, target, f"warm{secrets.token_hex(4)}@example.org")
            samples = [(is_known, timed_post(port, target, a)) for is_known, a in trials]
    finally:
        if url:
            drop_database(url)
    known_ms = [t * 1000 for k, t in samples if k]
    new_ms = [t * 1000 for k, t in samples if not k]
    accuracy = classifier_accuracy(samples)
    where = "an event with 50 places" if args.limited else "an event without a limit"
    print(f"{args.engine}, {where}: {len(samples)} addresses, first post each, over HTTP")
    print(
        f"known: median {statistics.median(known_ms):.2f} ms, mean {statistics.mean(known_ms):.2f}"
    )
    print(f"new:   median {statistics.median(new_ms):.2f} ms, mean {statistics.mean(new_ms):.2f}")
    print(f"threshold classifier, held-out accuracy: {accuracy:.1%} (goal: at most 55%)")
    return 0 if accuracy <= 0.55 else 1


if __name__ == "__main__":
    sys.exit(main())
