"""Private-link tokens: 256 random bits for the person, only a SHA-256 hash for the database."""

import hashlib
import re
import secrets

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> tuple[str, str]:
    """Return (token, hash). The token goes into an email and is never stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_token_shaped(value: str) -> bool:
    """Cheap check before any look-up, so junk in a URL never reaches the database."""
    return bool(_TOKEN_SHAPE.fullmatch(value))
