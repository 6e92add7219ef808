"""Browsers an organiser has logged in from before, so no stranger can lock them out.

The per-account log-in limit stops anyone guessing one account's password from
many addresses; counted for every attempt, it also lets a stranger lock the owner
out by failing on purpose. So, as OWASP describes for "device cookies", a full
log-in leaves a signed cookie in the browser, and an attempt that brings one for
the account it names is counted against that cookie instead of the account. The
owner logs in from their own browser whatever strangers do; a stolen cookie
gives a guesser no more tries than the account limit would. A browser without
one, the owner's new phone included, still meets the account's limit.

The cookie holds a keyed hash of the account's address (never the address) and a
random id, and lasts DEVICE_DAYS.
"""

import secrets

from flask import Response, current_app, g, request
from itsdangerous import BadData, URLSafeTimedSerializer

from .throttling import key_for_account

DEVICE_DAYS = 180
_SALT = "vigil-trusted-device"


def cookie_name() -> str:
    return "__Host-vigil_device" if current_app.config["VIGIL_HTTPS"] else "vigil_device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def remember(response: Response, address: str) -> None:
    """Mark this browser as one the account at `address` logged in from."""
    value = _serializer().dumps({"a": key_for_account(address), "d": secrets.token_hex(12)})
    response.set_cookie(
        cookie_name(),
        value,
        max_age=DEVICE_DAYS * 86400,
        path="/",
        secure=current_app.config["VIGIL_HTTPS"],
        httponly=True,
        samesite="Strict",
    )


def _device() -> dict | None:
    """The request's device cookie, verified once per request (the log-in's limits ask
    for it up to three times)."""
    if "vigil_device" not in g:
        g.vigil_device = _read_device()
    return g.vigil_device


def _read_device() -> dict | None:
    raw = request.cookies.get(cookie_name())
    if not raw:
        return None
    try:
        device = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return None
    return device if isinstance(device, dict) and {"a", "d"} <= device.keys() else None


def trusted_for_typed_account() -> bool:
    """Whether this browser logged in before as the account whose address was typed."""
    device = _device()
    typed = request.form.get("email", "")
    return device is not None and secrets.compare_digest(device["a"], key_for_account(typed))


def device_key() -> str:
    """The limiter key of this browser's cookie (only used when it is trusted)."""
    device = _device()
    return "device:" + (device["d"] if device else "none")
