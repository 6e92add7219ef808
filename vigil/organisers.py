"""Organiser accounts: passwords, log-in, and who may do what at which event.

Passwords are hashed with argon2id. Logging in with an unknown address costs the
same hash as a wrong password, so timing does not tell which addresses exist.
"""

import functools
import logging
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from .errors import VigilError
from .extensions import db
from .models import Event, EventMember, Organiser, OrganiserRole, utcnow
from .people import normalise_email

log = logging.getLogger(__name__)

PASSWORD_MIN = 12
PASSWORD_MAX = 128

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so both paths do the same work.
    Made on first use, once per process, not at import."""
    return _hasher.hash("vigil-no-such-account")


class AccountError(VigilError):
    status_code = 422


def check_password_rules(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError(f"Passwords must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long.")


def find_organiser(email: str) -> Organiser | None:
    return db.session.scalar(select(Organiser).where(Organiser.email_key == normalise_email(email)))


def create_organiser(email: str, display_name: str, role: str, password: str) -> Organiser:
    """Raises AccountError for a taken address, an unknown role or a weak password."""
    if role not in OrganiserRole.ALL:
        raise AccountError(f"Role must be one of {', '.join(OrganiserRole.ALL)}.")
    check_password_rules(password)
    if find_organiser(email) is not None:
        raise AccountError("An account with that address exists already.")
    organiser = Organiser(
        email=email.strip(),
        email_key=normalise_email(email),
        display_name=display_name.strip() or email.strip(),
        role=role,
        password_hash=_hasher.hash(password),
    )
    db.session.add(organiser)
    db.session.flush()
    log.info("organiser created organiser=%s role=%s", organiser.id, role)
    return organiser


def set_password(organiser: Organiser, password: str) -> None:
    """New password; every session opened with the old one ends."""
    check_password_rules(password)
    organiser.password_hash = _hasher.hash(password)
    organiser.session_version += 1


def end_sessions(organiser: Organiser) -> None:
    organiser.session_version += 1


def disable(organiser: Organiser) -> None:
    organiser.active = False
    organiser.session_version += 1


def authenticate(email: str, password: str, now: datetime | None = None) -> Organiser | None:
    """The account if the password is right and the account active; else None."""
    organiser = find_organiser(email) if len(email) <= 254 else None
    stored = organiser.password_hash if organiser is not None else _dummy_hash()
    try:
        _hasher.verify(stored, password[:PASSWORD_MAX])
    except (VerificationError, InvalidHashError):
        return None
    if organiser is None or not organiser.active:
        return None
    if _hasher.check_needs_rehash(organiser.password_hash):
        organiser.password_hash = _hasher.hash(password)
    organiser.last_login_at = now or utcnow()
    return organiser


def start_session(session, now: float) -> None:
    session["login_at"] = session["seen_at"] = int(now)


def session_is_fresh(session, now: float, config) -> bool:
    """False once a session has been idle too long or has lasted too long in all; true
    otherwise, and the idle clock starts again. A forgotten phone or a shared
    computer stops being a way in."""
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False
    if now - seen_at > config["VIGIL_SESSION_IDLE_MINUTES"] * 60:
        return False
    if now - login_at > config["VIGIL_SESSION_MAX_HOURS"] * 3600:
        return False
    if int(now) - seen_at >= 60:  # a minute's precision keeps the cookie from changing always
        session["seen_at"] = int(now)
    return True


def is_member(organiser: Organiser, event: Event) -> bool:
    return (
        db.session.scalar(
            select(EventMember.id).where(
                EventMember.organiser_id == organiser.id, EventMember.event_id == event.id
            )
        )
        is not None
    )


def manages_events(organiser: Organiser) -> bool:
    """Admins and organisers run events (create, change, see lists); stewards only
    check people in. Which events is can_see's question."""
    return organiser.role in (OrganiserRole.ADMIN, OrganiserRole.ORGANISER)


def can_see(organiser: Organiser, event: Event) -> bool:
    """Whether the event exists for this person at all (others get a 404)."""
    return organiser.role == OrganiserRole.ADMIN or is_member(organiser, event)


def visible_events(organiser: Organiser) -> list[Event]:
    query = select(Event).order_by(Event.starts_at.desc())
    if organiser.role != OrganiserRole.ADMIN:
        query = query.join(EventMember).where(EventMember.organiser_id == organiser.id)
    return list(db.session.scalars(query))


def add_member(organiser: Organiser, event: Event) -> None:
    if not is_member(organiser, event):
        db.session.add(EventMember(organiser=organiser, event=event))


def set_memberships(organiser: Organiser, event_ids: set[int]) -> None:
    """Make the account a member of exactly these events (unknown ids are ignored)."""
    current = {m.event_id: m for m in organiser.memberships}
    for event_id, membership in current.items():
        if event_id not in event_ids:
            db.session.delete(membership)
    wanted = event_ids - set(current)
    if wanted:
        for event in db.session.scalars(select(Event).where(Event.id.in_(wanted))):
            db.session.add(EventMember(organiser=organiser, event=event))


def update_account(
    admin: Organiser,
    account: Organiser,
    *,
    role: str,
    active: bool,
    event_ids: set[int],
    password: str | None = None,
) -> None:
    """An admin changes an account. Admins cannot demote or disable themselves, so an
    organisation is never left without anyone who can manage accounts by mistake.
    A new role, a disable or a new password ends the account's open sessions."""
    if role not in OrganiserRole.ALL:
        raise AccountError(f"Role must be one of {', '.join(OrganiserRole.ALL)}.")
    if account.id == admin.id and (role != OrganiserRole.ADMIN or not active):
        raise AccountError("You cannot take away your own admin role or disable yourself.")
    if password:
        check_password_rules(password)
        account.password_hash = _hasher.hash(password)
    if password or role != account.role or active != account.active:
        account.session_version += 1
    account.role = role
    account.active = active
    set_memberships(account, event_ids)
