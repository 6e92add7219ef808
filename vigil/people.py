"""People with a private link: what RSVPs and volunteer sign-ups have in common.

Both are a person found by a keyed hash of their address, reached through links
whose tokens are stored only as hashes, changed under their event's lock, and
erased with every email to them. Each privacy rule about such a person is
written here once; `rsvps` and `volunteers` keep only what differs.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import outbox
from .crypto import data_keys
from .errors import RsvpGone, SignupGone, VigilError
from .events import lock_event
from .extensions import db
from .mail_files import remove_after_commit
from .models import Event, OutboxMessage, Rsvp, RsvpToken, VolunteerSignup, VolunteerToken
from .tokens import hash_token, is_token_shaped, new_token

log = logging.getLogger(__name__)

# A repeated form from a known address emails a fresh link at most this often, so a
# form posted twice, or a flood of posts with someone's address, sends one link.
REPEAT_LINK_INTERVAL = timedelta(minutes=10)

Person = Rsvp | VolunteerSignup


@dataclass(frozen=True)
class _Kind:
    """Where one kind of person keeps its links and its emails."""

    token_model: type
    outbox_owner: object  # the OutboxMessage column naming the person
    gone: type[VigilError]


_KINDS: dict[type, _Kind] = {
    Rsvp: _Kind(RsvpToken, OutboxMessage.rsvp_id, RsvpGone),
    VolunteerSignup: _Kind(VolunteerToken, OutboxMessage.signup_id, SignupGone),
}


def confirmation_deadline(event: Event, now: datetime) -> datetime:
    """Until when a person may confirm from their mailbox before what they sent is
    erased: VIGIL_CONFIRM_HOURS from now, and never later than the event's end."""
    hours = current_app.config["VIGIL_CONFIRM_HOURS"]
    return min(now + timedelta(hours=hours), event.ends_at)


# ---------------------------------------------------------------- addresses


def normalise_email(address: str) -> str:
    """The comparison key for an address: validated form, compared case-insensitively."""
    address = address.strip()
    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        pass  # the form has already judged it; keep the key stable either way
    return address.casefold()


def email_lookup(address: str) -> str:
    """What a person's row stores to find the address again: its keyed hash."""
    return data_keys().lookup(normalise_email(address))


def email_lookups(address: str) -> list[str]:
    """The hashes under every configured key, for look-ups during a key rotation."""
    return data_keys().lookups(normalise_email(address))


def find_by_address(model: type[Person], event: Event, address: str) -> Person | None:
    return db.session.scalar(select(model).where(*_at(model, event, email_lookups(address))))


def _at(model: type[Person], event: Event, lookups: list[str]) -> tuple:
    """The person of `event` whose address has one of these look-up hashes."""
    return model.event_id == event.id, model.email_key.in_(lookups)


@dataclass(frozen=True)
class Arrival:
    """What a form from an address found: a new person `added`, or the `existing` one,
    and whether a link went to the existing one within REPEAT_LINK_INTERVAL."""

    existing: Person | None
    added: Person | None
    link_sent_recently: bool


# Tries at a new row whose drawn values (a check-in code) collide with another's.
_DRAWS = 5


def add_unless_known(
    model: type[Person],
    event: Event,
    address: str,
    *,
    link_kinds: tuple[str, ...],
    now: datetime,
    drawn: Callable[[], dict] = dict,
    **values,
) -> Arrival:
    """Store a new person unless the address is known here.

    Known and new addresses run the same two statements: a look-up of the address
    (with whether a message of `link_kinds` went to it lately), then an insert that
    the address's unique key turns into nothing for a known address. `drawn()`
    gives values that must be unique among the event's people (a check-in code):
    drawn afresh in the rare case they collide. Call with the event locked; under
    a shared lock (as a new RSVP takes), two requests with one address may race, and the
    one whose insert comes to nothing reads the other's row.
    """
    # The address is normalised and hashed once; the first hash is the current key's.
    lookups = email_lookups(address)
    existing, recently = _find_with_recent_link(model, event, lookups, link_kinds, now)
    key = existing.email_key if existing is not None else lookups[0]
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    for _ in range(_DRAWS):
        statement = (
            insert(model)
            .values(event_id=event.id, email=address.strip(), email_key=key, **values, **drawn())
            .on_conflict_do_nothing()
            .returning(model)
        )
        added = db.session.scalar(statement)
        if added is not None or existing is not None:
            return Arrival(existing, added, recently)
        # Nothing added and nobody known: another request added this address just
        # now, or a drawn value was taken. Look again, then draw again.
        existing, recently = _find_with_recent_link(model, event, lookups, link_kinds, now)
        if existing is not None:
            return Arrival(existing, None, recently)
    raise RuntimeError(f"no free unique values for a new {model.__name__} in {_DRAWS} draws")


def _find_with_recent_link(
    model: type[Person], event: Event, lookups: list[str], kinds: tuple[str, ...], now: datetime
) -> tuple[Person | None, bool]:
    recent = (
        select(OutboxMessage.id)
        .where(
            _KINDS[model].outbox_owner == model.id,
            OutboxMessage.kind.in_(kinds),
            OutboxMessage.created_at >= now - REPEAT_LINK_INTERVAL,
        )
        .exists()
    )
    row = db.session.execute(select(model, recent).where(*_at(model, event, lookups))).first()
    return (row[0], bool(row[1])) if row is not None else (None, False)


# ---------------------------------------------------------------- links


def issue_token(person: Person) -> str:
    """A new private link for the person; only its hash is stored, older links keep working."""
    token, token_hash = new_token()
    kind = _KINDS[type(person)]
    db.session.add(kind.token_model(token_hash=token_hash, **{_owner_name(person): person}))
    return token


def _owner_name(person: Person) -> str:
    return "rsvp" if isinstance(person, Rsvp) else "signup"


@dataclass(frozen=True)
class NewLink:
    """A private link made while an email was rendered, to be stored once it is: the
    rendering reads only, so the database write lock is held for the insert alone."""

    model: type
    person_id: int
    token_hash: str
    feed: bool = False  # a personal calendar feed address, which replaces the old one


def new_link(person: Person, feed: bool = False) -> tuple[str, NewLink]:
    """A token for an email, and what `store_links` keeps of it (its hash)."""
    token, token_hash = new_token()
    return token, NewLink(type(person), person.id, token_hash, feed)


def store_links(links: list[NewLink]) -> None:
    """Keep the hashes of links made for emails; a feed address replaces the old one."""
    for link in links:
        if link.feed:
            db.session.execute(
                update(VolunteerSignup)
                .where(VolunteerSignup.id == link.person_id)
                .values(feed_token_hash=link.token_hash)
            )
            continue
        owner = "rsvp_id" if link.model is Rsvp else "signup_id"
        token_model = _KINDS[link.model].token_model
        db.session.add(token_model(token_hash=link.token_hash, **{owner: link.person_id}))
    db.session.flush()


def find_by_token(model: type[Person], token: str) -> Person | None:
    """Junk never reaches the database; unknown and erased tokens both give None."""
    if not is_token_shaped(token):
        return None
    token_model = _KINDS[model].token_model
    return db.session.scalar(
        select(model).join(token_model).where(token_model.token_hash == hash_token(token))
    )


# ---------------------------------------------------------------- unsubscribing

_UNSUBSCRIBE_SALT = "vigil-unsubscribe"


def unsubscribe_token(rsvp: Rsvp) -> str:
    """A link that can only stop updates (RFC 8058's one-click List-Unsubscribe), never
    manage the RSVP: mail providers press it on the person's behalf. Signed, not
    stored; it names only the RSVP's number, and an erased RSVP's is never reused."""
    return _unsubscribe_serializer().dumps(rsvp.id)


def find_by_unsubscribe_token(token: str) -> Rsvp | None:
    if len(token) > 200:
        return None
    try:
        rsvp_id = _unsubscribe_serializer().loads(token)
    except BadData:
        return None
    return db.session.get(Rsvp, rsvp_id) if isinstance(rsvp_id, int) else None


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_UNSUBSCRIBE_SALT)


def rotate_feed_token(signup: VolunteerSignup) -> str:
    """A new address for a personal calendar feed; the old one stops working at once."""
    token, token_hash = new_token()
    signup.feed_token_hash = token_hash
    return token


def find_by_feed_token(token: str) -> VolunteerSignup | None:
    if not is_token_shaped(token):
        return None
    return db.session.scalar(
        select(VolunteerSignup).where(VolunteerSignup.feed_token_hash == hash_token(token))
    )


# ---------------------------------------------------------------- changes


def lock(person: Person) -> Event:
    """Lock the person's event, then re-read the person: another request may have changed
    or erased them since they were loaded. Raises RsvpGone or SignupGone."""
    event = lock_event(person.event)
    model = type(person)
    current = db.session.scalar(
        select(model).where(model.id == person.id).execution_options(populate_existing=True)
    )
    if current is None:
        raise _KINDS[model].gone()
    return event


def erase(person: Person) -> None:
    """Delete the person, their links and every email to them, sent or waiting.

    File copies of those emails go once the transaction commits, so a change
    that rolls back loses nothing. Call with the event locked.
    """
    owner = _KINDS[type(person)].outbox_owner == person.id
    remove_after_commit(outbox.forget(owner))
    db.session.delete(person)
    db.session.flush()
