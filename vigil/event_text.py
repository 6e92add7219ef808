"""An event's words in its reader's language: the organisers may give its title,
summary, description, place, directions and demands in Simplified and Traditional
Chinese too; a reader gets their language where it is given and the original
elsewhere.

Templates need not know: `event.title` in any template (pages and emails alike) reads
through `text_of`, by a hook on the template engine's attribute lookup. Python code
that writes an event's words (calendar files, email subjects) calls `text_of` itself.
"""

from flask import Flask

from .languages import TRANSLATED, current_code
from .models import Event

# The fields a translation may give; each one falls back to the event's own.
TEXT_FIELDS = ("title", "summary", "description", "venue", "transport", "demands")


def text_of(event: Event, field: str, code: str | None = None):
    """The event's `field` in `code` (the language in force when None), else its own."""
    code = code or current_code()
    if code in TRANSLATED and event.translations:
        given = (event.translations.get(code) or {}).get(field)
        if given:
            return given
    return getattr(event, field)


def clean_translations(raw: dict | None) -> dict | None:
    """Only known languages and fields with something in them; None when nothing is."""
    kept = {}
    for code in TRANSLATED:
        fields = {
            field: value
            for field, value in ((raw or {}).get(code) or {}).items()
            if field in TEXT_FIELDS and value
        }
        if fields:
            kept[code] = fields
    return kept or None


def init_event_text(app: Flask) -> None:
    env = app.jinja_env
    plain_getattr = env.getattr

    def in_reader_language(obj, attribute):
        if attribute in TEXT_FIELDS and isinstance(obj, Event):
            return text_of(obj, attribute)
        return plain_getattr(obj, attribute)

    env.getattr = in_reader_language
