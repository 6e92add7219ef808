"""Alembic environment for Vigil: runs against the app's own engine (SQLite or PostgreSQL)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    # Only when nothing has configured logging yet (the command line); keep the app's
    # loggers and their redaction filters working.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def render_item(type_, obj, autogen_context):
    """Vigil's UTC wrapper is stored as a plain timezone-aware DATETIME column."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and type(obj).__name__ == "Encrypted":
        return "sa.Text()"  # ciphertext, see vigil/crypto.py
    return False


def skip_empty_revisions(context, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def configure_args() -> dict:
    args = dict(current_app.extensions["migrate"].configure_args)
    args.setdefault("process_revision_directives", skip_empty_revisions)
    args.setdefault("render_item", render_item)
    args.setdefault("compare_type", True)
    return args


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Rebuilding a table on SQLite drops the old one; with foreign keys on,
            # that would cascade into the rows that point at it. The pragma only
            # works outside a transaction, hence the driver connection.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            context.configure(
                connection=connection, target_metadata=target_db.metadata, **configure_args()
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.commit()
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
