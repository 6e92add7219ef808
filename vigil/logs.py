"""Logging that never carries a manage token: request lines have token paths redacted."""

import logging
import re

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
