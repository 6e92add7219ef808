"""Who a rate limit counts: a client, an email address, an account tried.

Keys are keyed hashes (HMAC with the secret key), so the limiter's store — memory,
or Redis shared by several processes — never holds an IP address or an email
address, and a hash cannot be reversed by hashing a list of likely addresses.
"""

import hashlib
import hmac
import time
from functools import partial

from flask import Flask, current_app, request
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

from .database import READ_ONLY_METHODS
from .errors import render_error
from .extensions import limiter
from .people import normalise_email


def _digest(value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    """The client's address as the app sees it (set VIGIL_PROXIES behind a proxy)."""
    return "client:" + _digest(get_remote_address() or "")


def key_for_address(address: str) -> str:
    """The address normalised, so case games do not help, and hashed."""
    return "address:" + _digest(normalise_email(address[:254]))


def forget_addresses(addresses) -> int:
    """Delete the rate-limit counters kept for these addresses (retention purge).

    The counters hold keyed hashes only and expire within a day anyway; deleting
    them with the people's details leaves nothing behind. One pass over the
    store's keys, whatever the number of addresses. Returns how many went.
    """
    wanted = {key_for_address(a) for a in addresses if a}
    if not wanted:
        return 0
    storage = limiter.storage
    client = getattr(storage, "storage", None)
    removed = 0
    if hasattr(client, "scan_iter"):  # Redis, shared by every process
        prefix = getattr(storage, "key_prefix", "")
        for name in client.scan_iter(match=f"{prefix}*address:*", count=1000):
            text = name.decode() if isinstance(name, bytes) else name
            if _address_part(text) in wanted:
                removed += client.delete(name)
    elif hasattr(client, "keys"):  # in memory: this process's own counters
        for name in list(client.keys()):
            if _address_part(name) in wanted:
                client.pop(name, None)
                getattr(storage, "expirations", {}).pop(name, None)
                removed += 1
    return removed


def _address_part(name: str) -> str | None:
    start = name.find("address:")
    return name[start : start + len("address:") + 32] if start >= 0 else None


def account_key() -> str:
    return key_for_account(request.form.get("email", ""))


def key_for_account(address: str) -> str:
    return "login:" + _digest(normalise_email(address[:254]))


def form_limits(per_client: str):
    """The limit every public form POST gets: per client, since it counts what that
    client did. The per-address limit is not one that refuses (address_is_quiet)."""

    def decorate(view):
        return limiter.limit(
            lambda: current_app.config[per_client], methods=["POST"], key_func=client_key
        )(view)

    return decorate


def address_is_quiet(address: str) -> bool:
    """Count a form post for `address`; True once past VIGIL_FORM_LIMIT_PER_ADDRESS.

    The limit suppresses, it never blocks: past it, the form is answered as always
    and a new person is still stored, but no more private links are emailed to the
    address for now. So whoever types someone's address into the form many times
    neither bombs their mailbox nor stops them from RSVPing (a 429 would), and the
    answer is the same either way. Counted in the limiter's store, so it holds
    across processes with Redis.
    """
    names = (current_app.config["RATELIMIT_KEY_PREFIX"], key_for_address(address), "form")
    quiet = False
    for item in parse_many(current_app.config["VIGIL_FORM_LIMIT_PER_ADDRESS"]):
        if not limiter.limiter.hit(item, *names):
            quiet = True
    return quiet


def refund_this_attempt(*kinds: str) -> None:
    """Give back what this request counted against the limits whose keys start with
    one of `kinds`: for a log-in that succeeded. Every attempt is counted before the
    password is checked (so parallel guesses cannot outrun the limit); refunded
    afterwards, only failures are left counted, and an organiser who logs in again
    and again on the day is never refused. Fixed windows (the configured strategy)
    count with a number, which takes a negative step."""
    for counted in limiter.current_limits:
        if any(str(arg).startswith(kinds) for arg in counted.request_args):
            limiter.limiter.hit(counted.limit, *counted.request_args, cost=-1)


def init_throttling(app: Flask) -> None:
    """Bind the limiter, with its per-request hooks skipped for page views.

    Every limit Vigil sets is on a view and counts POSTs (forms, log-ins), checked
    by the view's own decorator; the limiter's app-wide hooks (before, after and
    teardown) serve only app-wide limits, which Vigil has none of. Skipping them for
    reads keeps a page view from doing the limiter's bookkeeping, which matters when
    thousands open the event page.
    """
    limiter.init_app(app)
    before = app.before_request_funcs.get(None, [])
    for i, hook in enumerate(before):
        if hook == limiter._check_request_limit:
            before[i] = _unless_reading(hook)
    after = app.after_request_funcs.get(None, [])
    for i, hook in enumerate(after):
        if isinstance(hook, partial) and hook.args == (limiter,):
            after[i] = _unless_reading(hook, passes=True)
    teardown = app.teardown_request_funcs.get(None, [])
    for i, hook in enumerate(teardown):
        if getattr(hook, "__self__", None) is limiter:  # it empties what the hooks kept
            teardown[i] = _unless_reading(hook)

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(exc: RateLimitExceeded):
        page, code = render_error(429)
        return page, code, {"Retry-After": str(retry_after())}


def retry_after() -> int:
    """Seconds until the limit that refused this request lets it through again. The
    only rate-limit header Vigil sends: the counts stay private (see config.py)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, int(breached.reset_at - time.time()))


def _unless_reading(hook, passes=False):
    def hook_for_writes(*args):
        if request.method in READ_ONLY_METHODS:
            return args[0] if passes else None
        return hook(*args)

    return hook_for_writes
