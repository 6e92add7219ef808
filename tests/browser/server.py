"""The app as an operator runs it: the README's commands on a SQLite file of its own,
`serve` for the pages and `mail work` delivering to a real SMTP server.

Events and accounts are made with the app's own commands (seed, events import,
organiser create, add-member), so the suite also shows that those work together.
"""

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "browser tests password"

# Imported beside the seed: one event with room, one with a single place.
PLACES = "browser-places"
FULL = "browser-full"

# email: (role, events it is a member of); admins need no membership.
ACCOUNTS = {
    "admin-phone@vigil.test": ("admin", ()),
    "admin-desktop@vigil.test": ("admin", ()),
    "admin-pages-390@vigil.test": ("admin", ()),
    "admin-pages-1280@vigil.test": ("admin", ()),
    "organiser@vigil.test": ("organiser", (PLACES, FULL)),
    "steward@vigil.test": ("steward", (PLACES,)),
}


@dataclass
class Vigil:
    """Where the app answers; its instance folder also holds serve.log and mail.log."""

    origin: str
    instance: Path
    seed_slug: str


def events_file(day: date) -> str:
    """Two events three weeks ahead, as an organiser would keep them in a file."""
    when = day + timedelta(days=21)
    common = f"""
timezone = "Europe/London"
starts = {when.isoformat()}T18:00:00
ends = {when.isoformat()}T20:00:00
venue = "Parliament Square"
street_address = "Parliament Square"
locality = "London"
postcode = "SW1P 3BD"
summary = "A candlelit vigil for prisoners of conscience."
description = "We stand together in silence.\\n\\nBring a candle."
"""
    return (
        f'[[events]]\nslug = "{PLACES}"\ntitle = "Candlelit vigil"\ncapacity = 100\n{common}\n'
        f'[[events]]\nslug = "{FULL}"\ntitle = "Vigil with one place"\ncapacity = 1\n{common}'
    )


def environment(instance: Path, origin: str, smtp_port: int) -> dict[str, str]:
    """Only what this run sets: nothing from the caller's VIGIL_* or database settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIGIL_", "MAIL_", "RATELIMIT_"))
        and k not in ("DATABASE_URL", "SECRET_KEY")
    }
    env.update(
        VIGIL_INSTANCE_PATH=str(instance),
        VIGIL_BASE_URL=origin,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        VIGIL_MAIL_POLL_SECONDS="0.2",
        VIGIL_MAIL_RETRY_BASE_SECONDS="0.2",
        # Every person in these tests comes from 127.0.0.1: the per-client limits are
        # for one client each, not for a whole test run's people at once.
        VIGIL_LOGIN_LIMIT_PER_CLIENT="200 per minute",
        VIGIL_FORM_LIMIT_PER_CLIENT="600 per minute",
    )
    return env


def prepare(instance: Path, origin: str) -> str:
    """Schema, seed, the test events and the accounts, by the README's commands run
    in this process (a process each would cost seconds of start-up); returns the
    slug of the seed's upcoming copy."""
    from vigil import create_app
    from vigil.extensions import db

    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(instance / "vigil.sqlite3"),
            "VIGIL_BASE_URL": origin,
            "VIGIL_DATA_KEY": None,  # the instance's own keys, as the server reads them
            "VIGIL_AUDIT_KEY": None,
        }
    )
    runner = app.test_cli_runner()

    def flask(*args: str, stdin: str | None = None) -> str:
        result = runner.invoke(args=list(args), input=stdin)
        if result.exit_code != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.output}")
        return result.output

    path = instance / "browser-events.toml"
    path.write_text(events_file(date.today()))
    flask("db", "upgrade")
    seeded = flask("seed").split()
    flask("events", "import", str(path))
    for email, (role, slugs) in ACCOUNTS.items():
        flask("organiser", "create", email, "--role", role, stdin=PASSWORD + "\n")
        for slug in slugs:
            flask("organiser", "add-member", email, slug)
    with app.app_context():
        db.engine.dispose()
    return next(s for s in seeded if s.startswith("human-rights-day-") and not s.endswith("2017"))


def wait_until_up(origin: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped:\n{log.read_text()}")
        try:
            urllib.request.urlopen(f"{origin}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz:\n{log.read_text()}")


def start(env: dict, port: int, logs: Path) -> list[subprocess.Popen]:
    """`serve` and `mail work`, as the README runs them with MAIL_SERVER set. Their
    output goes to files: a pipe nobody reads would fill and stall them."""
    base = [sys.executable, "-m", "flask", "--app", "vigil"]
    processes = []
    for name, command in (("serve", ["serve", "--port", str(port)]), ("mail", ["mail", "work"])):
        with (logs / f"{name}.log").open("w") as log:
            processes.append(
                subprocess.Popen(
                    [*base, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            )
    wait_until_up(f"http://127.0.0.1:{port}", processes[0], logs / "serve.log")
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
