"""Who a rate limit counts: a client, an email address, an account tried.

Keys are keyed hashes (HMAC with the secret key), so the limiter's store — memory,
or Redis shared by several processes — never holds an IP address or an email
address, and a hash cannot be reversed by hashing a list of likely addresses.
"""

import functools
import hashlib
import hmac
import time

from flask import current_app, request
from flask_limiter.util import get_remote_address

from .rsvps import normalise_email


def _digest(value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    """The client's address as the app sees it (set VIGIL_PROXIES behind a proxy)."""
    return "client:" + _digest(get_remote_address() or "")


def address_key() -> str:
    """The email address typed into the form, normalised, so case games do not help."""
    return "address:" + _digest(normalise_email(request.form.get("email", "")[:254]))


def account_key() -> str:
    return "login:" + _digest(normalise_email(request.form.get("email", "")[:254]))


def even_timing(view):
    """Answer no sooner than VIGIL_FORM_MIN_SECONDS after the request came in.

    A new RSVP stores a row and renders an email; a repeat from a known address
    does less. Without a floor, the time taken would tell a stranger whether an
    address had RSVPed, though the page is the same byte for byte.
    """

    @functools.wraps(view)
    def timed(*args, **kwargs):
        started = time.monotonic()
        response = view(*args, **kwargs)
        if request.method == "POST":
            left = current_app.config["VIGIL_FORM_MIN_SECONDS"] - (time.monotonic() - started)
            if left > 0:
                time.sleep(left)
        return response

    return timed


def form_limits(per_client: str, per_address: str):
    """The two limits every public form POST gets, as decorators to stack."""
    from .extensions import limiter

    def decorate(view):
        view = limiter.limit(
            lambda: current_app.config[per_address], methods=["POST"], key_func=address_key
        )(view)
        return limiter.limit(
            lambda: current_app.config[per_client], methods=["POST"], key_func=client_key
        )(view)

    return decorate
