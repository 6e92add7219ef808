"""Changing a stored event, and telling its attendees when the change concerns them."""

from dataclasses import dataclass

from .attendees import notify_event_cancelled, notify_event_changed
from .events import apply_event_changes, has_ended, is_live, lock_event
from .models import Event, EventStatus
from .rsvps import promote_waitlist


@dataclass(frozen=True)
class EventUpdate:
    changed: bool
    notified: int


def update_event(event: Event, changes: dict) -> EventUpdate:
    """Apply `changes`; a move or a cancellation of an event not yet over emails attendees."""
    change = apply_event_changes(event, changes)
    if change.capacity_changed and is_live(event):
        # More room (or no limit any more): the waitlist moves up at once.
        promote_waitlist(lock_event(event))
    notified = 0
    if not has_ended(event):
        if change.cancelled:
            notified = notify_event_cancelled(event)
        elif (change.moved or change.reinstated) and event.status == EventStatus.PUBLISHED:
            notified = notify_event_changed(event)
    return EventUpdate(changed=change.changed, notified=notified)
