"""Two-step log-in for organisers: a time-based code (TOTP) from an authenticator app.

Required for admins (who can see every event and manage accounts), optional for
everyone else. The secret is stored encrypted; a code is accepted once only, so
one read over a shoulder or from a phishing page cannot be replayed.
"""

import hmac
import logging
from datetime import datetime

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from .extensions import db
from .models import Organiser, OrganiserRole, utcnow

log = logging.getLogger(__name__)

# Codes from one step before or after now are accepted: phone clocks drift.
WINDOW = 1


def is_required(organiser: Organiser, admins_must: bool) -> bool:
    return admins_must and organiser.role == OrganiserRole.ADMIN


def is_enabled(organiser: Organiser) -> bool:
    return organiser.totp_secret is not None


def start_enrolment(organiser: Organiser) -> str:
    """A new secret to scan, kept aside until a first code proves the app has it."""
    organiser.totp_pending = pyotp.random_base32()
    return organiser.totp_pending


def provisioning_uri(organiser: Organiser, secret: str, issuer: str) -> str:
    """What the QR code holds: authenticator apps read account and issuer from it."""
    return pyotp.TOTP(secret).provisioning_uri(name=organiser.email, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for offset in range(-WINDOW, WINDOW + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return totp.timecode(now) + offset
    return None


def _accept(organiser: Organiser, secret: str, code: str, now: datetime) -> bool:
    """Take the code's time step if it is later than the last one used. One UPDATE
    that only matches while the step is new: of two requests sending one code at
    once, the database lets one through (PostgreSQL re-checks the condition once the
    first commits; SQLite runs them one after the other)."""
    step = _matching_step(secret, code, now)
    if step is None:
        return False
    taken = db.session.execute(
        update(Organiser)
        .where(
            Organiser.id == organiser.id,
            or_(Organiser.totp_last_step.is_(None), Organiser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    set_committed_value(organiser, "totp_last_step", step)
    return True


def finish_enrolment(organiser: Organiser, code: str, now: datetime | None = None) -> bool:
    """Turn two-step log-in on if the code matches the secret being set up. A new
    secret ends every other session of the account."""
    secret = organiser.totp_pending
    if secret is None or not _accept(organiser, secret, code, now or utcnow()):
        return False
    organiser.totp_secret, organiser.totp_pending = secret, None
    organiser.session_version += 1
    log.info("two-step log-in enabled organiser=%s", organiser.id)
    return True


def verify(organiser: Organiser, code: str, now: datetime | None = None) -> bool:
    """Whether the code is right now and has not been used before."""
    if organiser.totp_secret is None:
        return False
    return _accept(organiser, organiser.totp_secret, code, now or utcnow())


def disable(organiser: Organiser, code: str, admins_must: bool) -> bool:
    """Only with a current code, and never for an account that must have it."""
    if is_required(organiser, admins_must) or not verify(organiser, code):
        return False
    organiser.totp_secret = organiser.totp_pending = None
    organiser.session_version += 1
    log.info("two-step log-in disabled organiser=%s", organiser.id)
    return True
