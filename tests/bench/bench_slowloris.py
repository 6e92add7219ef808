"""Slow clients against the shipped gunicorn set-up: p99 of a page while they hold
connections open.

Starts `gunicorn wsgi:app` on a fresh SQLite instance with the demo events, opens
`--sockets` slow clients that each start a request and send one more header byte a
second, never finishing it, and meanwhile opens /healthz and then the event page
every 100 ms for `--seconds` each (a fresh connection per GET, 10 s timeout). The
slow clients are given all the time they want (VIGIL_REQUEST_TIMEOUT=600), so they
stay open throughout. With `--against REF`, the same again with that commit's
gunicorn.conf.py, in the same run. Goal: the event page answers within 300 ms at
p99 with 32 slow clients.

    .venv/bin/python tests/bench/bench_slowloris.py [--against main] [--sockets 32] [--seconds 10]
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from surge_clients import one_get, slowloris

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(conf: Path, sockets: int, seconds: float, scratch: Path) -> dict[str, dict]:
    instance = scratch / f"instance-{conf.stem}"
    # The slow clients stay for the whole run, rather than being closed at the
    # request deadline: what is measured is whether they hold threads.
    env = {**os.environ, "VIGIL_INSTANCE_PATH": str(instance), "VIGIL_REQUEST_TIMEOUT": "600"}
    for name in ("DATABASE_URL", "MAIL_SERVER", "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY"):
        env.pop(name, None)
    flask = [str(BIN / "python"), "-m", "flask", "--app", "vigil"]
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    env["VIGIL_BIND"] = f"127.0.0.1:{port}"
    with open(scratch / f"{conf.stem}.log", "wb") as log:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(conf), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(300):
            try:
                if one_get(port, "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            home = response.read().decode()
        event = re.search(r'href="(/events/human-rights-day-20\d\d)"', home).group(1)
        results = {}
        for path in ("/healthz", event):
            results[path] = slowloris(port, path, sockets, seconds)
            time.sleep(1.0)  # connections closed by the last round are gone
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def row(label: str, path: str, result: dict) -> str:
    probe = result["probe"]

    def ms(value):
        return "-" if value is None else f"{value:.1f}"

    failures = ", ".join(f"{k} {v}" for k, v in probe["failures"].items()) or "none"
    return (
        f"| {label} | {path} | {probe['count']} | {ms(probe['p50_ms'])} | {ms(probe['p99_ms'])} "
        f"| {ms(probe['max_ms'])} | {failures} | {result['still_open_at_end']} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", help="a commit whose gunicorn.conf.py to measure too")
    parser.add_argument("--sockets", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-slowloris-") as scratch:
        scratch = Path(scratch)
        confs = {"this tree": ROOT / "gunicorn.conf.py"}
        if args.against:
            other = scratch / "against.conf.py"
            other.write_bytes(
                subprocess.run(
                    [shutil.which("git") or "git", "show", f"{args.against}:gunicorn.conf.py"],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                ).stdout
            )
            confs[args.against] = other
        lines = [
            f"{args.sockets} slow clients, a GET every 100 ms for {args.seconds:g} s per page",
            "",
            "| config | page | answered | p50 ms | p99 ms | max ms | failures | slow clients "
            "still open |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for label, conf in confs.items():
            print(f"measuring {label} ...", flush=True)
            for path, result in measure(conf, args.sockets, args.seconds, scratch).items():
                lines.append(row(label, path, result))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
