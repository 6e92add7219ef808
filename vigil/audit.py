"""The audit trail: every view or export of personal data by an organiser, and every
change they make, as append-only rows that hold no personal data themselves."""

from .extensions import db
from .models import AuditEntry, Event, Organiser


def record(
    organiser: Organiser | None, action: str, event: Event | None = None, rows: int | None = None
) -> None:
    """Add a row in the caller's transaction (the caller commits)."""
    db.session.add(
        AuditEntry(
            organiser_id=organiser.id if organiser is not None else None,
            action=action,
            event_id=event.id if event is not None else None,
            rows=rows,
        )
    )
