"""Vigil: publish a protest, take RSVPs, keep attendees safe."""

import os
from pathlib import Path

from flask import Flask
from flask.helpers import get_debug_flag
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    cli,
    crypto,
    database,
    errors,
    event_text,
    headers,
    languages,
    logs,
    mail_files,
    not_modified,
    page_cache,
    session_cookies,
    static_files,
    templating,
    throttling,
)
from .config import load_config
from .extensions import db, login_manager, mail, migrate
from .pages import calendars as calendar_pages
from .pages import events as event_pages
from .pages import health as health_pages
from .pages import organiser as organiser_pages
from .pages import privacy as privacy_pages
from .pages import rsvps as rsvp_pages
from .pages import volunteers as volunteer_pages

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages, commands.

    `config` overrides everything read from the environment (tests pass a dict);
    `INSTANCE_PATH` in it, or VIGIL_INSTANCE_PATH in the environment, moves the
    instance folder.
    """
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=(config or {}).get("INSTANCE_PATH") or os.environ.get("VIGIL_INSTANCE_PATH"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path))
    app.config.update(config or {})
    if app.config["VIGIL_HTTPS"] and (app.debug or get_debug_flag()):
        # The debugger runs any code typed into an error page.
        raise RuntimeError("debug mode is refused when VIGIL_BASE_URL is https://")

    app.wsgi_app = not_modified.NotModifiedReplay(app.wsgi_app)
    if app.config["VIGIL_PROXIES"]:
        # Behind a reverse proxy: the client's address and scheme come from its headers.
        n = app.config["VIGIL_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    logs.init_logging(app.config["LOG_LEVEL"])
    crypto.init_keys(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    languages.init_languages(app)
    database.init_database(app)
    page_cache.init_page_cache(app)
    mail.init_app(app)
    mail_files.init_mail_files(app)
    throttling.init_throttling(app)
    login_manager.init_app(app)
    organiser_pages.init_login(login_manager)
    headers.init_headers(app)
    session_cookies.init_session_cookies(app)
    static_files.init_static_files(app)
    templating.init_templating(app)
    event_text.init_event_text(app)

    app.register_blueprint(calendar_pages.bp)
    app.register_blueprint(event_pages.bp)
    app.register_blueprint(rsvp_pages.bp)
    app.register_blueprint(volunteer_pages.bp)
    app.register_blueprint(health_pages.bp)
    app.register_blueprint(privacy_pages.bp)
    app.register_blueprint(organiser_pages.bp)
    errors.register_error_handlers(app)
    cli.init_cli(app)
    return app
