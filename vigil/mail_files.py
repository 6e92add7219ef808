"""Copies of emails kept as `.eml` files in the embedded set-up, and their removal.

Removal waits for the transaction that erased the person to commit: a change
that rolls back keeps both its rows and its files.
"""

from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "vigil_mail_files_to_remove"


def mail_directory() -> Path:
    return Path(current_app.instance_path) / "mail"


def remove_file_copies(message_ids: list[int]) -> int:
    """Delete the .eml copies of these messages now; returns how many went."""
    wanted = {f"{message_id:08d}" for message_id in message_ids}
    directory = mail_directory()
    if not wanted or not directory.exists():
        return 0
    removed = 0
    for path in directory.glob("*.eml"):  # one pass over the folder, however many ids
        parts = path.name.split("-", 2)
        if len(parts) == 3 and parts[1] in wanted:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_after_commit(message_ids: list[int]) -> None:
    """Delete the copies once the current transaction commits; forget them on rollback."""
    from .extensions import db

    if message_ids:
        db.session().info.setdefault(_PENDING, []).extend(message_ids)


@event.listens_for(Session, "after_commit")
def _remove_committed(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids:
        remove_file_copies(ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
