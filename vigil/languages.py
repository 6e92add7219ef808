"""Which language a request is answered in: for now the configured default
(BABEL_DEFAULT_LOCALE), parsed once per process; Flask-Babel without a selector
parses it again on every request. And the form library's own messages in that
language, read from disk once per process rather than once per form."""

from functools import cache

from babel import Locale, support
from flask import Flask, current_app
from wtforms.i18n import messages_path

from .extensions import babel


@cache
def _parsed(identifier: str) -> Locale:
    return Locale.parse(identifier)


def request_locale() -> Locale:
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])


@cache
def _form_messages(locale: Locale) -> support.Translations:
    return support.Translations.load(messages_path(), _catalogues(locale), domain="wtforms")


def _catalogues(locale: Locale) -> list[str]:
    """WTForms names its Chinese catalogues zh (Simplified) and zh_TW (Traditional);
    matched by script, Traditional readers would otherwise get Simplified."""
    if locale.language == "zh":
        traditional = locale.script == "Hant" or locale.territory in ("TW", "HK", "MO")
        return ["zh_TW" if traditional else "zh"]
    return [str(locale), locale.language]


def form_messages() -> support.Translations:
    """WTForms' built-in messages ("Not a valid integer value.") for this request."""
    return _form_messages(request_locale())


def init_languages(app: Flask) -> None:
    babel.init_app(app, locale_selector=request_locale)
