"""One organiser change, as one transaction, and the notice that tells of it.

A view that changes something runs the domain call inside `organiser_change()` and
writes its audit row there. When the block ends the change is committed, once; a
refusal (a `VigilError`, or what the view names) rolls the session back instead, so
the page is drawn from the rows as stored, and is handed to the view to show.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ... import audit
from ...errors import VigilError
from ...extensions import db
from ...models import Event

Refusals = type[Exception] | tuple[type[Exception], ...]


class Change:
    """What the view knows of its change: the audit row it wrote, and any refusal."""

    def __init__(self) -> None:
        self.audited = False
        self.refusal: Exception | None = None

    def audit(self, action: str, event: Event | None = None, rows: int | None = None) -> None:
        """Every change goes on the audit trail, in the same transaction."""
        audit.record(current_user, action, event, rows=rows)
        self.audited = True


@contextmanager
def organiser_change(refused: Refusals = VigilError) -> Iterator[Change]:
    """Commit the block's change once, or roll it back on `refused` (raised by the
    domain call or by the commit) and keep the error in `change.refusal`."""
    change = Change()
    try:
        yield change
        if not change.audited:
            raise RuntimeError("an organiser change must write its audit row")
        db.session.commit()
    except refused as exc:
        db.session.rollback()
        change.refusal = exc


def emailed_notice(done: str, emailed: int) -> str:
    """What was done, and how many people were emailed about it, if anyone was."""
    if not emailed:
        return _("%(done)s.", done=done)
    return ngettext(
        "%(done)s; %(num)d person was emailed.",
        "%(done)s; %(num)d people were emailed.",
        emailed,
        done=done,
    )
