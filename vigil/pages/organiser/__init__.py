"""The organisers' area under /organiser: one blueprint, a module per thing it serves.

`access` holds the blueprint and the one permission check every view wears;
`changes` the one way a view commits a change (its audit row, one commit, a rollback
on a refusal); `auth` logging in and out and two-step log-in; `dashboard`; `events`
(editing and status); `volunteer_roles` (roles and shifts); `roster`; `attendees`
(list, CSV, walk-ups, cancelling and promoting); `check_in`; `messages`; `accounts`
(admins: accounts and the audit trail). Importing the package registers every view on the blueprint.
"""

from . import (  # noqa: F401  (each module adds its views to the blueprint)
    accounts,
    attendees,
    check_in,
    dashboard,
    events,
    messages,
    roster,
    volunteer_roles,
)
from .access import bp
from .auth import init_login

__all__ = ["bp", "init_login"]
