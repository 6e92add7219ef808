"""Operator commands: `flask --app vigil seed`, `flask --app vigil events import PATH`."""

from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from .event_files import EventFileError, import_events, seed
from .extensions import db

events_cli = AppGroup("events", help="Manage events kept in files.")


@events_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_command(path: Path):
    """Create or update (by slug) every event in a TOML event file."""
    try:
        results = import_events(path)
    except EventFileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    for result in results:
        click.echo(f"{result.action}: {result.slug}")


@click.command("seed")
@with_appcontext
def seed_command():
    """Load the 2017 Human Rights Day demonstration and a copy on the next 10 December."""
    results = seed(date.today())
    db.session.commit()
    for result in results:
        click.echo(f"{result.action}: {result.slug}")


def init_cli(app: Flask) -> None:
    app.cli.add_command(events_cli)
    app.cli.add_command(seed_command)
