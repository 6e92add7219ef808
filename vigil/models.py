"""Vigil's tables. Models hold data and simple derived facts; rules live in domain modules."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from .crypto import Encrypted
from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on the way out on every engine (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Field lengths, shared by the model, the forms and the event file loader.
SLUG_MAX = 80
TITLE_MAX = 200
SUMMARY_MAX = 500
DESCRIPTION_MAX = 20000
DEMAND_MAX = 500
VENUE_MAX = 200
ADDRESS_MAX = 200
LOCALITY_MAX = 100
POSTCODE_MAX = 20
TRANSPORT_MAX = 500
TIMEZONE_MAX = 64
NAME_MAX = 100
EMAIL_MAX = 254
EMAIL_KEY_MAX = 1024
ACCESSIBILITY_MAX = 500


class EventStatus:
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    ALL = (DRAFT, PUBLISHED, CANCELLED)


class RsvpStatus:
    # Waiting for the person to confirm from their mailbox: holds no place, and no
    # public page counts it (see rsvps.confirm_rsvp).
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ALL = (PENDING, CONFIRMED, WAITLISTED, CANCELLED)


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
        CheckConstraint("sequence >= 0", name="sequence"),
        CheckConstraint("retention_days IS NULL OR retention_days >= 0", name="retention_days"),
        Index("ix_events_status_starts_at", "status", "starts_at"),
        # Ids are never reused (SQLite would reuse the highest after a delete), so
        # anything keyed by an id, like an email's dedupe key, stays unambiguous.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX), default="")
    # Plain text; blank lines separate paragraphs. Rendered escaped, never as HTML.
    description: Mapped[str] = mapped_column(Text, default="")
    demands: Mapped[list[str]] = mapped_column(JSON, default=list)
    venue: Mapped[str] = mapped_column(String(VENUE_MAX))
    street_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    locality: Mapped[str] = mapped_column(String(LOCALITY_MAX))
    postcode: Mapped[str] = mapped_column(String(POSTCODE_MAX))
    transport: Mapped[str] = mapped_column(String(TRANSPORT_MAX), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(TIMEZONE_MAX))
    capacity: Mapped[int | None] = mapped_column(Integer)
    rsvp_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rsvp_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.DRAFT)
    # Hold a place only once the person confirms by email. None: when capacity is set.
    confirm_by_email: Mapped[bool | None] = mapped_column()
    # Email subjects name the date, not the title: a phone's lock screen is seen by others.
    discreet_subjects: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Days after the end before attendees' details are deleted; None: the default.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # Set when the details were deleted; the numbers are kept for the records.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_counts: Mapped[dict | None] = mapped_column(JSON)
    # Text in other languages, {"zh_Hans": {"title": ...}}; see event_text.py. Loaded
    # only when read: most requests load the event (to check or lock it) and never
    # show its words, and decoding several kilobytes of JSON each time costs them.
    translations: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Rises with every stored change of any kind (see bump_event_revision), so a
    # cheap sum over the feed's events tells whether the feed's bytes changed.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    rsvps: Mapped[list["Rsvp"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def full_address(self) -> str:
        return f"{self.street_address}, {self.locality} {self.postcode}"

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.slug}>"


@event.listens_for(Event, "before_update")
def bump_event_revision(mapper, connection, target: Event) -> None:
    session = object_session(target)
    if session is not None and session.is_modified(target, include_collections=False):
        target.revision = (target.revision or 0) + 1


class Rsvp(db.Model):
    """One person's RSVP. No IP address or user agent is ever stored."""

    __tablename__ = "rsvps"
    __table_args__ = (
        # One RSVP per address per event; email_key is the address in lower case.
        UniqueConstraint("event_id", "email_key", name="uq_rsvps_event_email"),
        UniqueConstraint("event_id", "checkin_code", name="uq_rsvps_event_checkin_code"),
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'waitlisted', 'cancelled')", name="status"
        ),
        CheckConstraint("guests >= 0", name="guests"),
        Index("ix_rsvps_event_status_queued", "event_id", "status", "queued_at"),
        # The organisers' attendee list pages through an event's RSVPs by time.
        Index("ix_rsvps_event_created", "event_id", "created_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # Personal fields are AES-GCM ciphertext in the database (see crypto.py).
    name: Mapped[str | None] = mapped_column(Encrypted)
    # None only for a walk-up an organiser added at the spot without asking for one.
    email: Mapped[str | None] = mapped_column(Encrypted)
    # The HMAC of the normalised address: finds it and keeps it unique per event.
    email_key: Mapped[str | None] = mapped_column(String(EMAIL_KEY_MAX))
    guests: Mapped[int] = mapped_column(Integer, default=0)
    accessibility: Mapped[str | None] = mapped_column(Encrypted)
    wants_updates: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16))
    # When the RSVP last joined the waitlist (or was created): promotion order.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the address is unconfirmed (a pending RSVP): it is erased at this
    # moment unless the person confirms through the link in their email first.
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Cancelled by the organisers, not by the person: their link cannot undo it.
    cancelled_by_organisers: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Short code for the steward at the spot (also as a QR code on the manage page).
    checkin_code: Mapped[str | None] = mapped_column(String(8))
    # The language of the page they RSVPed on ("en", "zh_Hans", "zh_Hant"): every
    # email to them is in it. None for RSVPs from before languages were kept.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="rsvps")
    tokens: Mapped[list["RsvpToken"]] = relationship(
        back_populates="rsvp", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def places(self) -> int:
        """Places this RSVP takes: the person plus their guests."""
        return 1 + self.guests

    def __repr__(self) -> str:
        return f"<Rsvp {self.id} event={self.event_id} {self.status}>"


class RsvpToken(db.Model):
    """The SHA-256 hash of one manage link; the token itself exists only in an email.

    Every email that carries a manage link gets a token of its own, so a link in an
    older email keeps working and no token ever has to be kept in clear.
    """

    __tablename__ = "rsvp_tokens"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    rsvp_id: Mapped[int] = mapped_column(ForeignKey("rsvps.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rsvp: Mapped[Rsvp] = relationship(back_populates="tokens")


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ALL = (PENDING, SENDING, SENT, FAILED, CANCELLED)


class OutboxMessage(db.Model):
    """An email waiting to be sent, written in the same transaction as its cause.

    A message to a person names its `template` and `context`; the worker renders it
    (with a fresh private link) just before sending, so the request that caused it
    renders nothing and no link waits in the table. Once sent, recipient, context
    and bodies are cleared: the outbox keeps metadata only.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name="status"
        ),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Encrypted until sent (and cleared then): a queued message names its recipient.
    recipient: Mapped[str | None] = mapped_column(Encrypted)
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Encrypted)
    body_html: Mapped[str | None] = mapped_column(Encrypted)
    template: Mapped[str | None] = mapped_column(String(60))
    # What the template needs beyond the person and the event (JSON), encrypted: an
    # organiser's message is in it.
    context: Mapped[str | None] = mapped_column(Encrypted)
    calendar: Mapped[str | None] = mapped_column(Text)
    calendar_filename: Mapped[str | None] = mapped_column(String(120))
    # Only for non-essential messages: where the person can opt out.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    rsvp_id: Mapped[int | None] = mapped_column(
        ForeignKey("rsvps.id", ondelete="SET NULL"), index=True
    )
    signup_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer_signups.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- volunteers

ROLE_NAME_MAX = 100
ROLE_TEXT_MAX = 500
PHONE_MAX = 40
LANGUAGES_MAX = 200
NOTES_MAX = 500
MEETING_POINT_MAX = 200


class Role(db.Model):
    """A volunteer duty at an event: stewarding, first aid, interpreting…"""

    __tablename__ = "roles"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(ROLE_NAME_MAX))
    duty: Mapped[str] = mapped_column(String(ROLE_TEXT_MAX), default="")
    what_to_bring: Mapped[str] = mapped_column(String(ROLE_TEXT_MAX), default="")
    needs_phone: Mapped[bool] = mapped_column(default=False)
    briefing: Mapped[str | None] = mapped_column(String(ROLE_TEXT_MAX))
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship()
    shifts: Mapped[list["Shift"]] = relationship(
        back_populates="role",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Shift.starts_at",
    )


class Shift(db.Model):
    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity > 0", name="capacity"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    meeting_point: Mapped[str] = mapped_column(String(MEETING_POINT_MAX), default="")
    note: Mapped[str | None] = mapped_column(String(ROLE_TEXT_MAX))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    role: Mapped[Role] = relationship(back_populates="shifts")


class SignupStatus:
    # Waiting for the person to confirm from their mailbox: the shifts they chose
    # are asked for, not held (see volunteers.confirm_signup).
    PENDING = "pending"
    ACTIVE = "active"
    ALL = (PENDING, ACTIVE)


class VolunteerSignup(db.Model):
    """One person volunteering at one event, for one or more shifts.

    Withdrawing erases the row; there is no "withdrawn" copy of anyone's data.
    """

    __tablename__ = "volunteer_signups"
    __table_args__ = (
        UniqueConstraint("event_id", "email_key", name="uq_volunteer_signups_event_email"),
        CheckConstraint("status IN ('pending', 'active')", name="status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(Encrypted)
    email: Mapped[str] = mapped_column(Encrypted)
    email_key: Mapped[str] = mapped_column(String(EMAIL_KEY_MAX))
    phone: Mapped[str | None] = mapped_column(Encrypted)
    languages: Mapped[str | None] = mapped_column(Encrypted)
    notes: Mapped[str | None] = mapped_column(Encrypted)
    status: Mapped[str] = mapped_column(String(16), default=SignupStatus.ACTIVE)
    # Raised when a shift is dropped or added: part of every SEQUENCE of the person's
    # shift entries, so a shift taken again supersedes its own cancellation.
    calendar_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    language: Mapped[str | None] = mapped_column(String(8))  # as Rsvp.language
    # Set while pending: the sign-up is erased at this moment unless confirmed first.
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # SHA-256 of the personal calendar feed's token; a new one replaces it.
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    assignments: Mapped[list["ShiftAssignment"]] = relationship(
        back_populates="signup", cascade="all, delete-orphan", passive_deletes=True
    )
    tokens: Mapped[list["VolunteerToken"]] = relationship(
        back_populates="signup", cascade="all, delete-orphan", passive_deletes=True
    )


class ShiftAssignment(db.Model):
    """A sign-up's place on one shift."""

    __tablename__ = "shift_assignments"
    __table_args__ = (
        UniqueConstraint("signup_id", "shift_id", name="uq_shift_assignments_signup_shift"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    signup_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_signups.id", ondelete="CASCADE"), index=True
    )
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signup: Mapped[VolunteerSignup] = relationship(back_populates="assignments")
    shift: Mapped[Shift] = relationship()


class VolunteerToken(db.Model):
    """The SHA-256 of one manage link for a sign-up (as RsvpToken is for RSVPs)."""

    __tablename__ = "volunteer_tokens"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    signup_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_signups.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signup: Mapped[VolunteerSignup] = relationship(back_populates="tokens")


# ---------------------------------------------------------------- organisers


class OrganiserRole:
    ADMIN = "admin"  # manages accounts and every event
    ORGANISER = "organiser"  # manages the events they are a member of
    STEWARD = "steward"  # checks people in at the events they are a member of
    ALL = (ADMIN, ORGANISER, STEWARD)


class Organiser(db.Model):
    """Someone who logs in to run events. The password is kept only as an argon2 hash."""

    __tablename__ = "organisers"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'organiser', 'steward')", name="role"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    email_key: Mapped[str] = mapped_column(String(EMAIL_KEY_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # Raised by a password change or a disable: every older session stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-step log-in (TOTP): the secret, encrypted like personal data; one being
    # set up until a first code proves the app has it; the last time step used, so
    # a code cannot be replayed.
    totp_secret: Mapped[str | None] = mapped_column(Encrypted)
    totp_pending: Mapped[str | None] = mapped_column(Encrypted)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    memberships: Mapped[list["EventMember"]] = relationship(
        back_populates="organiser", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login's protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class EventMember(db.Model):
    __tablename__ = "event_members"
    __table_args__ = (
        UniqueConstraint("organiser_id", "event_id", name="uq_event_members_organiser_event"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)

    organiser: Mapped[Organiser] = relationship(back_populates="memberships")
    event: Mapped[Event] = relationship()


class AuditEntry(db.Model):
    """Who looked at or exported personal data, or changed something, and when.

    Never the personal data itself: an action name, the event, and how many rows.
    """

    __tablename__ = "audit_entries"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    rows: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Each row's hash covers its content and the previous row's hash, so editing or
    # deleting any row breaks the chain (see audit.verify_chain).
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# Append-only in the database too: an UPDATE or DELETE on the audit trail fails.
for _dialect, _statements in {
    "sqlite": [
        "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END",
        "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$",
        "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    ],
}.items():
    for _statement in _statements:
        event.listen(
            AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )
