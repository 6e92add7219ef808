"""Configuration: safe defaults, overridden by environment variables, then by a test dict."""

import os
import secrets
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def database_url(raw: str | None, instance_path: str) -> str:
    """Pick the SQLAlchemy URL; plain `postgres://` URLs are routed to psycopg 3."""
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "vigil.sqlite3")
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def instance_secret(instance_path: str, filename: str, nbytes: int = 32, make=None) -> str:
    """Read a secret kept in the instance folder, creating it (mode 0600) on first use.

    A generated secret survives restarts so sessions stay valid, and no key is ever
    hard-coded in the source.
    """
    path = Path(instance_path) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written in full under a temporary name, then linked into place: several
        # processes starting at once all end up reading the same complete secret.
        partial = path.with_name(f".{filename}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make() if make else secrets.token_hex(nbytes))
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_text().strip()


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


def load_config(instance_path: str) -> dict:
    """Everything the app reads from its environment, with defaults for the embedded setup."""
    https = os.environ.get("VIGIL_BASE_URL", "").startswith("https://")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or instance_secret(instance_path, "secret_key"),
        # Encrypts personal data at rest; instance/data_key is made when unset.
        "VIGIL_DATA_KEY": os.environ.get("VIGIL_DATA_KEY") or None,
        # Keys the audit trail's hash chain; instance/audit_key is made when unset.
        "VIGIL_AUDIT_KEY": os.environ.get("VIGIL_AUDIT_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), instance_path),
        # hide_parameters: a database error must never print an address into the log.
        # Pooled connections are checked without a ping (database.py).
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        "VIGIL_BASE_URL": os.environ.get("VIGIL_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "VIGIL_ORG_NAME": os.environ.get("VIGIL_ORG_NAME", "Vigil"),
        "VIGIL_MAX_GUESTS": _env_int("VIGIL_MAX_GUESTS", 4),
        # Where places are held only for confirmed addresses: hours to confirm.
        "VIGIL_CONFIRM_HOURS": _env_int("VIGIL_CONFIRM_HOURS", 24),
        # Personal data is deleted this many days after an event ends (see purge).
        "VIGIL_RETENTION_DAYS": _env_int("VIGIL_RETENTION_DAYS", 30),
        "VIGIL_CONTACT_EMAIL": os.environ.get("VIGIL_CONTACT_EMAIL") or None,
        "VIGIL_SQLITE_BUSY_TIMEOUT_MS": _env_int("VIGIL_SQLITE_BUSY_TIMEOUT_MS", 30000),
        # Outgoing mail. Without MAIL_SERVER, messages are written to instance/mail/.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "vigil@localhost"),
        "MAIL_SUPPRESS_SEND": False,  # the outbox decides; tests use a real SMTP server
        "VIGIL_MAIL_BATCH_SIZE": _env_int("VIGIL_MAIL_BATCH_SIZE", 50),
        "VIGIL_MAIL_LEASE_SECONDS": _env_int("VIGIL_MAIL_LEASE_SECONDS", 300),
        "VIGIL_MAIL_POLL_SECONDS": _env_float("VIGIL_MAIL_POLL_SECONDS", 2.0),
        "VIGIL_MAIL_TIMEOUT_SECONDS": _env_float("VIGIL_MAIL_TIMEOUT_SECONDS", 30.0),
        "VIGIL_MAIL_RETRY_BASE_SECONDS": _env_float("VIGIL_MAIL_RETRY_BASE_SECONDS", 30.0),
        "VIGIL_MAIL_RETRY_CAP_SECONDS": _env_float("VIGIL_MAIL_RETRY_CAP_SECONDS", 3600.0),
        "VIGIL_MAIL_MAX_ATTEMPTS": _env_int("VIGIL_MAIL_MAX_ATTEMPTS", 20),
        "VIGIL_REMINDER_HOURS": _env_int("VIGIL_REMINDER_HOURS", 24),
        # Organiser log-in throttling: failed attempts per client address and per account.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Apart from another Vigil (or anything else) sharing the same Redis.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        # Where the public pages' cache keeps its change counters and shared pages:
        # memory:// (this process), or redis://; unset, it follows RATELIMIT_STORAGE_URI.
        "VIGIL_CACHE_URL": os.environ.get("VIGIL_CACHE_URL"),
        # No X-RateLimit-* headers: on a form they would tell anyone how often an email
        # address had been sent lately (the per-address count), and reading the window
        # back cost every POST a second trip to the store. A 429 says Retry-After
        # (throttling.py).
        "RATELIMIT_HEADERS_ENABLED": False,
        # Counted with a number per window, which a succeeded log-in can give back
        # (throttling.refund_this_attempt).
        "RATELIMIT_STRATEGY": "fixed-window",
        "VIGIL_LOGIN_LIMIT_PER_CLIENT": os.environ.get(
            "VIGIL_LOGIN_LIMIT_PER_CLIENT", "10 per minute;50 per hour"
        ),
        "VIGIL_LOGIN_LIMIT_PER_ACCOUNT": os.environ.get(
            "VIGIL_LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes;20 per day"
        ),
        # Public forms (RSVP, volunteer): per client, generous enough for a group on
        # one Wi-Fi network; per email address, to stop floods with one address.
        "VIGIL_FORM_LIMIT_PER_CLIENT": os.environ.get(
            "VIGIL_FORM_LIMIT_PER_CLIENT", "60 per minute;600 per hour"
        ),
        "VIGIL_FORM_LIMIT_PER_ADDRESS": os.environ.get(
            "VIGIL_FORM_LIMIT_PER_ADDRESS", "5 per hour;20 per day"
        ),
        # Public form posts take at least this long, new address or known (timing).
        # How many reverse proxies in front set X-Forwarded-For / -Proto (0: none).
        "VIGIL_PROXIES": _env_int("VIGIL_PROXIES", 0),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 64 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Served over HTTPS: Secure cookies with the __Host- prefix (bound to this
        # host, path /, never sent over plain HTTP), and HSTS.
        "SESSION_COOKIE_SECURE": https,
        "SESSION_COOKIE_NAME": "__Host-vigil" if https else "vigil",
        "VIGIL_HTTPS": https,
        # Admins must use two-step log-in (TOTP); others may.
        "VIGIL_ADMIN_TWO_FACTOR": _env_bool("VIGIL_ADMIN_TWO_FACTOR", True),
        # Organiser sessions end after this long idle, and after this long in all.
        "VIGIL_SESSION_IDLE_MINUTES": _env_int("VIGIL_SESSION_IDLE_MINUTES", 30),
        "VIGIL_SESSION_MAX_HOURS": _env_int("VIGIL_SESSION_MAX_HOURS", 12),
        "WTF_CSRF_TIME_LIMIT": _env_int("WTF_CSRF_TIME_LIMIT", 8 * 3600),
        "BABEL_DEFAULT_LOCALE": "en_GB",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }
