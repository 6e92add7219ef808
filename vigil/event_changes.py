"""Changing a stored event, and telling its attendees and volunteers when the change
concerns them."""

from dataclasses import dataclass

from .attendees import notify_event_cancelled, notify_event_changed
from .dates import format_span
from .events import apply_event_changes, has_ended, is_live, lock_event
from .models import Event, EventStatus
from .rsvps import promote_waitlist
from .shift_editing import move_shifts as move_shifts_by
from .shift_editing import notify_volunteers


@dataclass(frozen=True)
class EventUpdate:
    changed: bool
    notified: int


def update_event(event: Event, changes: dict, move_shifts: bool = True) -> EventUpdate:
    """Apply `changes`; a move, a cancellation or a reinstatement of an event not yet over
    emails its attendees and volunteers, a move with the time and place it had. A new
    start moves the shifts by as much, unless `move_shifts` is off."""
    before = where_and_when(event)
    old_start = event.starts_at
    change = apply_event_changes(event, changes)
    if move_shifts and event.id is not None and event.starts_at != old_start:
        move_shifts_by(event, event.starts_at - old_start)
    if change.capacity_changed and is_live(event):
        # More room (or no limit any more): the waitlist moves up at once.
        promote_waitlist(lock_event(event))
    notified = 0
    if not has_ended(event):
        if change.cancelled:
            notified = notify_event_cancelled(event) + notify_volunteers(event, "cancelled")
        elif (change.moved or change.reinstated) and event.status == EventStatus.PUBLISHED:
            was = None if change.reinstated else before
            what = "reinstated" if change.reinstated else "moved"
            notified = notify_event_changed(event, was) + notify_volunteers(event, what, was)
    return EventUpdate(changed=change.changed, notified=notified)


def where_and_when(event: Event) -> dict | None:
    """The event's time and place as people read them, to show beside the new ones."""
    if event.id is None:
        return None
    return {
        "when": format_span(event.starts_at, event.ends_at, event.timezone),
        "where": f"{event.venue}, {event.full_address}",
    }
