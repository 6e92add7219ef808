"""The embedded set-up's copies of sent emails: `.eml` files in `instance/mail/`.

A copy is written whole or not at all, and named with its outbox id so an erasure
can find it. An erasure asks for its copies to go with `remove_after_commit`: they
are deleted once its transaction commits, and kept if it rolls back, so a failed
erasure never loses the files of rows that are still there.
"""

import os
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db

# session.info key: {mail directory: outbox ids whose copies go at commit}
_PENDING = "vigil.mail_copies_to_remove"


def mail_directory() -> Path:
    return Path(current_app.instance_path) / "mail"


def file_name(message_id: int, kind: str, created_at: datetime) -> str:
    """`<created>-<id>-<kind>.eml`: sorts by age; the id lets erasure find the copy."""
    return f"{created_at:%Y%m%dT%H%M%S}-{message_id:08d}-{kind}.eml"


def write_copy(directory: Path, name: str, data: bytes) -> None:
    """Write to a hidden partial file, then rename: readers never see half a message."""
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{name}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(partial, directory / name)


def remove_copies(directory: Path, message_ids: set[int]) -> int:
    """Delete the copies of these messages now; returns how many went."""
    wanted = {f"{message_id:08d}" for message_id in message_ids}
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
    """Delete these messages' copies once the current transaction commits."""
    if message_ids:
        pending = db.session.info.setdefault(_PENDING, {})
        pending.setdefault(mail_directory(), set()).update(message_ids)


def _remove_pending(session: Session) -> None:
    for directory, message_ids in session.info.pop(_PENDING, {}).items():
        remove_copies(directory, message_ids)


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without a commit (rollback, close) keeps every copy."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def init_mail_files(app: Flask) -> None:
    """Listen on every Flask-SQLAlchemy session, once per process however many apps."""
    if not event.contains(db.session, "after_commit", _remove_pending):
        event.listen(db.session, "after_commit", _remove_pending)
        event.listen(db.session, "after_transaction_end", _forget_pending)
