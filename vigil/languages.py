"""Which language a request is answered in: for now the configured default
(BABEL_DEFAULT_LOCALE), parsed once per process; Flask-Babel without a selector
parses it again on every request."""

from functools import cache

from babel import Locale
from flask import Flask, current_app

from .extensions import babel


@cache
def _parsed(identifier: str) -> Locale:
    return Locale.parse(identifier)


def request_locale() -> Locale:
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_languages(app: Flask) -> None:
    babel.init_app(app, locale_selector=request_locale)
