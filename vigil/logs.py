"""Logging that never carries a manage token: request lines have token paths redacted."""

import logging
import re
import traceback
from pathlib import Path
from urllib.parse import unquote

# A path, or the path part of a URL: up to a space, quote, query or fragment.
_PATH = re.compile(r"/[^\s\"'?#]*")
_PRIVATE = {"rsvp", "volunteer", "unsubscribe"}
# Tokens are 43 characters; anything this long after /rsvp/ or /volunteer/ is hidden.
_TOKEN_MIN = 16


def redact(text: str) -> str:
    """Hide the segment after /rsvp/ or /volunteer/ however the path is spelled:
    percent-encoded (/rsvp/%34…, /%72svp/…), with doubled slashes (/rsvp//…), in
    any case, or in a full URL."""
    return _PATH.sub(_redact_path, text)


def _redact_path(match: re.Match) -> str:
    segments = match.group(0).split("/")
    hide = False
    for i, segment in enumerate(segments):
        if hide and segment:
            if len(unquote(segment)) >= _TOKEN_MIN:
                segments[i] = "[token]"
            hide = False
            continue
        if unquote(segment).strip().lower() in _PRIVATE:
            hide = True
    return "/".join(segments)


class RedactTokens(logging.Filter):
    """Rewrites access-log lines (werkzeug, gunicorn) before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            # A traceback can quote a URL (gunicorn's "Error handling request …").
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
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
