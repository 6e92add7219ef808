"""Personal data encrypted at rest, and keyed look-up hashes for email addresses.

Names, addresses, phone numbers, access needs and volunteers' notes are stored
as AES-256-GCM ciphertext ("v1:<key id>:<base64 of nonce + ciphertext + tag>"),
so a copy of the database (the SQLite file, a `pg_dump`, a backup) holds none of
them in clear. An address is found, and kept unique per event, by the HMAC of its
normalised form under a key derived from the data key: the same address always
gives the same look-up hash, which says nothing without the key.

Keys come from VIGIL_DATA_KEY (comma-separated, base64, 32 bytes each; the first
encrypts, every one decrypts, so a rotation can run while old rows remain), or in
the embedded set-up from instance/data_key, created on first use.
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app
from sqlalchemy import Text, TypeDecorator

from .config import instance_secret

VERSION = "v1"
KEY_FILE = "data_key"


class DataKeyError(RuntimeError):
    """A key is missing, malformed, or cannot open a stored value."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"vigil key id" + key).hexdigest()[:8]


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def parse_keys(text: str) -> list[bytes]:
    keys = []
    for part in text.replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            key = base64.urlsafe_b64decode(part.encode())
        except (binascii.Error, ValueError) as exc:
            raise DataKeyError("a data key is not valid base64") from exc
        if len(key) != 32:
            raise DataKeyError("a data key must be 32 bytes (44 characters of base64)")
        keys.append(key)
    if not keys:
        raise DataKeyError("no data key given")
    return keys


class DataKeys:
    """The key ring: the first key encrypts; any of them decrypts what it encrypted."""

    def __init__(self, keys: list[bytes]):
        self.keys = keys
        self.current_id = key_id(keys[0])
        self._current = AESGCM(keys[0])
        self._by_id = {key_id(k): AESGCM(k) for k in keys}
        self._lookups = [hmac.new(k, b"vigil email lookup", hashlib.sha256).digest() for k in keys]

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self._current.encrypt(nonce, text.encode("utf-8"), self.current_id.encode())
        return f"{VERSION}:{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str) -> str:
        version, _, rest = stored.partition(":")
        kid, _, payload = rest.partition(":")
        if version != VERSION:
            raise DataKeyError("a stored value is not encrypted in a known format")
        cipher = self._by_id.get(kid)
        if cipher is None:
            raise DataKeyError(f"no key with id {kid} is configured (VIGIL_DATA_KEY)")
        raw = base64.b64decode(payload)
        try:
            return cipher.decrypt(raw[:12], raw[12:], kid.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise DataKeyError("a stored value does not match its key") from exc

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{VERSION}:{self.current_id}:")

    def lookup(self, normalised: str) -> str:
        """The look-up hash under the current key: what new rows store."""
        return hmac.new(self._lookups[0], normalised.encode(), hashlib.sha256).hexdigest()

    def lookups(self, normalised: str) -> list[str]:
        """Under every key, so rows not yet rotated are still found."""
        return [hmac.new(k, normalised.encode(), hashlib.sha256).hexdigest() for k in self._lookups]


def _instance_key(instance_path: str) -> str:
    """Created once (mode 0600), like the secret key."""
    return instance_secret(instance_path, KEY_FILE, make=new_key)


def init_keys(app: Flask) -> None:
    text = app.config.get("VIGIL_DATA_KEY") or _instance_key(app.instance_path)
    app.extensions["vigil_data_keys"] = DataKeys(parse_keys(text))


def data_keys() -> DataKeys:
    return current_app.extensions["vigil_data_keys"]


def write_instance_keys(app: Flask, keys: list[str]) -> None:
    """Replace instance/data_key (embedded set-up only), atomically."""
    path = Path(app.instance_path) / KEY_FILE
    partial = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(keys) + "\n")
    os.replace(partial, path)
    app.extensions["vigil_data_keys"] = DataKeys(parse_keys("\n".join(keys)))


class Encrypted(TypeDecorator):
    """Text stored as AES-GCM ciphertext; Python code only ever sees the clear text.

    Never compare such a column in SQL: each encryption uses a fresh nonce, so equal
    values are stored differently. Look-ups go through the HMAC columns.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else data_keys().encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else data_keys().decrypt(value)
