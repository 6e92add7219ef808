"""A link gone viral: the shipped gunicorn setup under a surge, against a bare route.

    .venv/bin/python tests/bench/bench_surge.py [--engine sqlite,postgresql]
        [--duration 5] [--rounds 5] [--form-seconds 20] [--json PATH]

For each engine: a fresh instance folder and database (PostgreSQL: a database
`vigil_bench_…` on VIGIL_TEST_POSTGRES_URL's server, dropped at the end), two
upcoming events loaded with `flask --app vigil events import` (one without a
limit, with volunteer roles; one with 50 places), then, in the same run, Vigil
under `gunicorn wsgi:app` and a bare fixed-string Flask route under the same
`gunicorn.conf.py`. Measured, all on 127.0.0.1:

- `wrk -t2 -c32 --latency`, in interleaved rounds (median of each kept): the bare
  route, the event page, the volunteer page, the home page, and the feed answering
  304 to If-None-Match;
- 32 people in a closed loop opening the event page and RSVPing with a new
  address, while a probe opens the event page every 100 ms;
- 200 people pressing RSVP in the same second for 50 places (which holds nothing
  until confirmed), then the 200 pressing Confirm on their private pages in the
  same second, and the places held as the database has them;
- 32 slowloris connections while the probe opens the event page for 10 s;
- the resident memory of every gunicorn worker afterwards.

Rate limits live in Redis (127.0.0.1:6379) as in production, with the form limits
raised, since all traffic comes from one address; the counters this run made are
deleted afterwards. Prints one markdown table per engine and writes JSON.
Needs `wrk` (`apt-get install wrk`).
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis
from sqlalchemy.engine import make_url
from surge_clients import Probe, confirm_burst, one_get, rsvp_burst, rsvp_crowd, slowloris
from surge_report import markdown_table

from vigil.people import normalise_email

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = "redis://127.0.0.1:6379/0"
EXAMPLE = ROOT / "vigil" / "data" / "human-rights-day-2017.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database() -> str:
    name = "vigil_bench_" + secrets.token_hex(6)
    with psycopg.connect(_libpq(POSTGRES_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _libpq(make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False))


def drop_database(url: str) -> None:
    with psycopg.connect(_libpq(POSTGRES_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


# --- events ---------------------------------------------------------------------


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):  # the translations: an inline table of tables
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)  # strings and lists of strings


def _toml_table(header: str, table: dict, indent="") -> list[str]:
    lines = ["", f"{indent}[[{header}]]"]
    plain = {k: v for k, v in table.items() if k not in ("roles", "shifts")}
    lines += [f"{indent}{k} = {_toml_value(v)}" for k, v in plain.items()]
    return lines


def events_file(path: Path, open_slug: str, fifty_slug: str) -> None:
    """The example demonstration twice, moved 60 days ahead: without a limit and
    with its volunteer roles, and with 50 places taken straight from the form."""
    example = tomllib.loads(EXAMPLE.read_text())["events"][0]
    target = (datetime.now() + timedelta(days=60)).replace(hour=11, minute=0, second=0)
    shift = target.replace(microsecond=0) - example["starts"]
    lines = ["# Written by tests/bench/bench_surge.py for one run."]
    for slug, extra in ((open_slug, {}), (fifty_slug, {"capacity": 50, "confirm_by_email": False})):
        event = {**example, "slug": slug, **extra, "status": "published"}
        event["starts"] += shift
        event["ends"] += shift
        lines += _toml_table("events", event)
        for role in example["roles"] if slug == open_slug else []:
            lines += _toml_table("events.roles", role)
            for s in role["shifts"]:
                moved = {**s, "starts": s["starts"] + shift, "ends": s["ends"] + shift}
                lines += _toml_table("events.roles.shifts", moved, indent="  ")
    path.write_text("\n".join(lines) + "\n")


# --- processes ------------------------------------------------------------------


class Servers:
    """The gunicorn masters this run started; all are stopped on leaving, whatever happens."""

    def __init__(self, env: dict, logs: Path):
        self.env = env
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], ready_path: str) -> tuple[subprocess.Popen, int]:
        port = free_port()
        log = open(self.logs / f"{name}.log", "wb")
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), *args],
            cwd=ROOT,
            env={**self.env, "VIGIL_BIND": f"127.0.0.1:{port}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.logs / (name + '.log')}")
            try:
                if one_get(port, ready_path, timeout=5)[0] == 200:
                    return proc, port
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer within 60 s")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def flask(env: dict, *args: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "vigil", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    """VmRSS of each child of a gunicorn master, from /proc."""
    children = []
    for task in Path(f"/proc/{master.pid}/task").iterdir():
        children += (task / "children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        kb = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
        sizes.append(round(kb / 1024, 1))
    return sorted(sizes)


# --- wrk ------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS_MS[unit]


def wrk(port: int, path: str, seconds: int, header: str | None = None) -> dict:
    args = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if header:
        args += ["-H", header]
    out = subprocess.run(
        [*args, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    kinds = ("connect", "read", "write", "timeout")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "socket_errors": dict(zip(kinds, map(int, errors.groups()), strict=True)) if errors else {},
        "non_2xx_3xx": int(bad.group(1)) if bad else 0,
    }


def median_run(runs: list[dict]) -> dict:
    """The run with the median requests/s, with every run's figure beside it."""
    ordered = sorted(runs, key=lambda r: r["requests_per_s"])
    return {**ordered[len(ordered) // 2], "rounds": [r["requests_per_s"] for r in runs]}


def feed_etag(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/calendar.ics")
        response = conn.getresponse()
        response.read()
        etag = response.getheader("ETag")
        conn.request("GET", "/calendar.ics", headers={"If-None-Match": etag})
        again = conn.getresponse()
        again.read()
    finally:
        conn.close()
    if again.status != 304:
        raise RuntimeError(f"/calendar.ics answered {again.status} to If-None-Match, not 304")
    return etag


# --- the database and Redis afterwards ------------------------------------------

_PLACES = (
    "SELECT r.status, count(*), coalesce(sum(1 + r.guests), 0) FROM rsvps r "
    "JOIN events e ON e.id = r.event_id WHERE e.slug = {p} GROUP BY r.status"
)


def stored_rsvps(engine: str, url: str, slug: str) -> dict:
    """RSVPs of one event by status: how many, and the places (people plus guests)."""
    if engine == "sqlite":
        with sqlite3.connect(url) as conn:
            rows = conn.execute(_PLACES.format(p="?"), (slug,)).fetchall()
            outbox = conn.execute("SELECT count(*) FROM outbox_messages").fetchone()[0]
    else:
        with psycopg.connect(url) as conn:
            rows = conn.execute(_PLACES.format(p="%s"), (slug,)).fetchall()
            outbox = conn.execute("SELECT count(*) FROM outbox_messages").fetchone()[0]
    return {
        "by_status": {status: {"rsvps": n, "places": int(p)} for status, n, p in rows},
        "outbox_rows_all_events": outbox,
    }


def give_links(engine: str, url: str, slug: str) -> list[str]:
    """A private link for every RSVP of the event, as the worker would email one: a new
    token, its SHA-256 stored (tokens.hash_token). The benchmark has no mailbox."""
    select = "SELECT r.id FROM rsvps r JOIN events e ON e.id = r.event_id WHERE e.slug = {p}"
    insert = "INSERT INTO rsvp_tokens (rsvp_id, token_hash, created_at) VALUES ({p}, {p}, {p})"
    now = datetime.now(UTC)
    if engine == "sqlite":
        conn, p = sqlite3.connect(url), "?"
        now = now.replace(tzinfo=None).isoformat(sep=" ")
    else:
        conn, p = psycopg.connect(url), "%s"
    tokens = []
    with conn:
        for (rsvp_id,) in conn.execute(select.format(p=p), (slug,)).fetchall():
            token = secrets.token_urlsafe(32)
            digest = hashlib.sha256(token.encode()).hexdigest()
            conn.execute(insert.format(p=p), (rsvp_id, digest, now))
            tokens.append(token)
    conn.close()
    return tokens


def forget_counters(secret: str, addresses: list[str]) -> int:
    """Delete this run's rate-limit counters from Redis, found by their keyed hashes
    (Vigil's limiter has no key prefix of its own to set from the environment)."""

    def digest(value: str) -> str:
        return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]

    ours = {"client:" + digest("127.0.0.1")}
    ours |= {"address:" + digest(normalise_email(a)) for a in addresses}
    client = redis.Redis.from_url(REDIS_URL)
    removed = 0
    for pattern in ("*client:*", "*address:*"):
        for key in client.scan_iter(match=pattern, count=1000):
            text = key.decode()
            if any(part in ours for part in text.split("/")):
                removed += client.delete(key)
    return removed


# --- one engine -----------------------------------------------------------------


def run_engine(engine: str, args) -> dict:
    tag = secrets.token_hex(3)
    open_slug, fifty_slug = f"surge-open-{tag}", f"surge-fifty-{tag}"
    instance = Path(tempfile.mkdtemp(prefix=f"vigil-surge-{engine}-"))
    secret = secrets.token_hex(32)
    url = create_database() if engine == "postgresql" else None
    env = {
        **os.environ,
        "VIGIL_INSTANCE_PATH": str(instance),
        "SECRET_KEY": secret,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "VIGIL_FORM_LIMIT_PER_CLIENT": "1000000 per minute",
        "VIGIL_FORM_LIMIT_PER_ADDRESS": "1000 per minute",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DATABASE_URL", None)
    if url:
        env["DATABASE_URL"] = url
    result = {"engine": engine, "instance": str(instance)}
    try:
        flask(env, "db", "upgrade")
        events_file(instance / "events.toml", open_slug, fifty_slug)
        flask(env, "events", "import", str(instance / "events.toml"))
        with Servers(env, instance) as servers:
            vigil, port = servers.start("vigil", ["wsgi:app"], "/healthz")
            bare_args = ["-c", "gunicorn.conf.py", "--pythonpath", "tests/bench", "bare_app:app"]
            bare, bare_port = servers.start("bare", bare_args, "/")
            result["workers"] = {
                "vigil": len(worker_rss_mb(vigil)),
                "bare": len(worker_rss_mb(bare)),
            }
            pages = {
                "event": f"/events/{open_slug}",
                "volunteer": f"/events/{open_slug}/volunteer",
                "home": "/",
            }
            for path in pages.values():
                status = one_get(port, path, timeout=30)[0]
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            etag = feed_etag(port)
            print(f"[{engine}] wrk: {args.rounds} rounds of {args.duration} s each", flush=True)
            targets = {"bare": (bare_port, "/", None)}
            targets.update({name: (port, path, None) for name, path in pages.items()})
            targets["feed_304"] = (port, "/calendar.ics", f"If-None-Match: {etag}")
            rounds = {name: [] for name in targets}
            # Interleaved rounds, each target's median kept: wrk's 32 keep-alive
            # connections can land unevenly on the two workers, which moves a single
            # run by up to half, for the bare route as much as for Vigil.
            for _ in range(args.rounds):
                for name, (target_port, path, header) in targets.items():
                    rounds[name].append(wrk(target_port, path, args.duration, header))
            result["wrk"] = {name: median_run(runs) for name, runs in rounds.items()}

            print(f"[{engine}] 32 people RSVPing for {args.form_seconds} s", flush=True)
            with Probe(port, pages["event"]) as probe:
                result["crowd"] = rsvp_crowd(port, open_slug, 32, args.form_seconds, tag)
            result["crowd"]["probe"] = probe.result()
            result["crowd"]["stored"] = stored_rsvps(engine, url or db_file(instance), open_slug)

            print(f"[{engine}] 200 RSVPs at once for 50 places", flush=True)
            result["burst"] = rsvp_burst(port, fifty_slug, 200, 120.0, tag)
            result["burst"]["stored"] = stored_rsvps(engine, url or db_file(instance), fifty_slug)
            print(f"[{engine}] the 200 confirming at once", flush=True)
            tokens = give_links(engine, url or db_file(instance), fifty_slug)
            result["confirm"] = confirm_burst(port, tokens, 120.0)
            result["confirm"]["stored"] = stored_rsvps(engine, url or db_file(instance), fifty_slug)

            print(f"[{engine}] 32 slowloris connections for 10 s", flush=True)
            result["slowloris"] = slowloris(port, pages["event"], 32, 10.0)

            time.sleep(1.0)
            result["rss_mb"] = {"vigil": worker_rss_mb(vigil), "bare": worker_rss_mb(bare)}
        rounds = result["crowd"]["rounds_per_person"]
        addresses = [f"crowd-{tag}-{n}-{i}@example.org" for n in range(32) for i in range(rounds)]
        addresses += [f"burst-{tag}-{n}@example.org" for n in range(200)]
        result["redis_counters_removed"] = forget_counters(secret, addresses)
    finally:
        if url:
            drop_database(url)
    if not args.keep:
        shutil.rmtree(instance, ignore_errors=True)
    return result


def db_file(instance: Path) -> str:
    return str(instance / "vigil.sqlite3")


def _interrupted(signum, frame):
    """SIGTERM ends the run like Ctrl-C: every server it started is stopped."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="wrk runs per page (median kept)")
    parser.add_argument("--form-seconds", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep instance folders and logs")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    parser.add_argument("--json", default=str(ROOT / "tests/bench/results" / f"surge-{stamp}.json"))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    report = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "started": datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "web_concurrency": os.environ.get("WEB_CONCURRENCY"),
        "commit": subprocess.run(
            [shutil.which("git") or "git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "engines": {},
    }
    for engine in [e.strip() for e in args.engine.split(",") if e.strip()]:
        try:
            report["engines"][engine] = run_engine(engine, args)
        except Exception as exc:  # the other engine still runs; the JSON says what failed
            traceback.print_exc()
            report["engines"][engine] = {"engine": engine, "error": repr(exc)}
            continue
        print(markdown_table(report["engines"][engine]), flush=True)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
