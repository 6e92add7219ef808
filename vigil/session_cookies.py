"""The session cookie, signed as Flask signs it, and the CSRF token of a cached page,
signed as Flask-WTF signs it (each reads the other's values unchanged), at less cost.

A new visitor to a cached page costs two signatures: their session cookie and their
form's token. Done as the libraries do it, those were over a third of such a page
view: the serializer and its signer were built anew for every one, the signing key
derived again, and each short payload compressed only to find it grew. Here each
serializer and signer is built once per process, and a payload too short to gain
from compression is not compressed (readers take either form).
"""

import secrets
from functools import lru_cache

from flask import Flask, current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Serializer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's, which validates the token
# zlib adds six bytes of its own: JSON this short never comes out smaller.
SHORT_PAYLOAD = 128


class _KeyOnceSigner(TimestampSigner):
    """Derives its signing key once, not for every signature."""

    def derive_key(self, secret_key=None) -> bytes:
        if secret_key is not None:
            return super().derive_key(secret_key)
        if not hasattr(self, "_derived"):
            self._derived = super().derive_key()
        return self._derived


class QuickSerializer(URLSafeTimedSerializer):
    """URLSafeTimedSerializer with its signer kept per salt and short payloads sent
    uncompressed; what it signs, URLSafeTimedSerializer reads, and the other way."""

    default_signer = _KeyOnceSigner

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._signers: dict = {}

    def make_signer(self, salt=None):
        salt = self.salt if salt is None else salt
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer

    def dump_payload(self, obj) -> bytes:
        json = Serializer.dump_payload(self, obj)
        if len(json) >= SHORT_PAYLOAD:
            return super().dump_payload(obj)
        return base64_encode(json)


class SessionCookies(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Keyed by the keys themselves, so a changed key (tests, a rotation) is used at once.
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._serializers:
            self._serializers = {keys: self._build(app)}
        return self._serializers[keys]

    def _build(self, app: Flask) -> QuickSerializer | None:
        """Flask's own serializer, made a QuickSerializer with the same keys and settings."""
        flasks = super().get_signing_serializer(app)
        if flasks is None:
            return None
        return QuickSerializer(
            flasks.secret_keys,
            salt=flasks.salt,
            serializer=flasks.serializer,
            signer_kwargs=flasks.signer_kwargs,
        )


def csrf_field() -> str:
    """Where Flask-WTF keeps the raw token in the session and the signed one in `g`."""
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


@lru_cache(maxsize=1)
def _csrf_serializer(secret: str) -> QuickSerializer:
    return QuickSerializer(secret, salt=CSRF_SALT)


def csrf_token() -> str:
    """The request's CSRF token, as Flask-WTF's `generate_csrf` makes it: a random
    value kept in the session, signed with a timestamp in the form."""
    field = csrf_field()
    token = g.get(field)
    if token is None:
        raw = session.get(field)
        if not isinstance(raw, str):
            raw = session[field] = secrets.token_hex(20)  # 40 hex digits, as Flask-WTF's
        secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        token = _csrf_serializer(secret).dumps(raw)
        setattr(g, field, token)
    return token


def init_session_cookies(app: Flask) -> None:
    app.session_interface = SessionCookies()
