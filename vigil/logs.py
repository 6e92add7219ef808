"""Logging that never carries a manage token: request lines have token paths redacted."""

import logging
import re
import traceback
from pathlib import Path

_TOKEN_PATH = re.compile(r"/(rsvp|volunteer)/[A-Za-z0-9_-]{16,}")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"/\1/[token]", text)


class RedactTokens(logging.Filter):
    """Rewrites access-log lines (werkzeug, gunicorn) before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def init_logging(level: str) -> None:
    logging.getLogger("vigil").setLevel(level)
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def describe_exception(exc: BaseException) -> str:
    """Type, database error code and where it happened — never the message.

    Exception messages can quote what a person typed (PostgreSQL's "Failing row
    contains (...)", a validator's repr), so they are kept out of the log.
    """
    parts = [type(exc).__name__]
    orig = getattr(exc, "orig", None)
    if orig is not None:
        parts.append(type(orig).__name__)
        sqlstate = getattr(orig, "sqlstate", None)
        diag = getattr(orig, "diag", None)
        if sqlstate:
            parts.append(f"sqlstate={sqlstate}")
        if diag is not None and getattr(diag, "constraint_name", None):
            parts.append(f"constraint={diag.constraint_name}")
    frames = traceback.extract_tb(exc.__traceback__)
    # The innermost frame, then the innermost frames of our own code.
    own = [f for f in frames if "site-packages" not in f.filename][-4:]
    chosen = [f for f in frames[-1:] if f not in own] + own[::-1]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in chosen)
    return f"{' '.join(parts)} at {where}"
