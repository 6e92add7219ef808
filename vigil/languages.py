"""Which language a request is answered in, and the catalogues that answer it.

English (the default), Simplified Chinese and Traditional Chinese. A reader's choice
is kept in a cookie (no account); without one, the browser's Accept-Language decides,
zh-CN and zh-SG reading Simplified, zh-TW, zh-HK and zh-MO Traditional. The
catalogues are compiled from their .po files in memory when the app starts: no
binary is kept in the repository or written to disk.
"""

import io
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlencode

from babel import Locale, support
from babel.messages import mofile, pofile
from flask import Flask, Response, current_app, has_request_context, redirect, request
from flask_babel import Domain, get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from wtforms.i18n import messages_path

from .extensions import babel

CATALOGUES = Path(__file__).parent / "translations"
COOKIE = "vigil_lang"
# code in URLs and the cookie -> the name a reader looks for, in its own script
LANGUAGES = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文"}
TRANSLATED = ("zh_Hans", "zh_Hant")
# code -> its BCP 47 tag, for lang attributes and Content-Language
TAGS = {"en": "en-GB", "zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant"}
TRADITIONAL_REGIONS = ("TW", "HK", "MO")


@cache
def _parsed(identifier: str) -> Locale:
    return Locale.parse(identifier)


def code_of(value: str | None) -> str | None:
    """One of LANGUAGES for a cookie's or a link's value ("zh-Hant" too), else None."""
    text = (value or "").strip().replace("-", "_")
    for code in LANGUAGES:
        if text.casefold() == code.casefold():
            return code
    return None


def from_accept_language(header: LanguageAccept) -> str | None:
    """The first of the browser's languages that Vigil has, in the order it asks."""
    for tag, _quality in header:
        parts = tag.replace("_", "-").split("-")
        language = parts[0].casefold()
        if language == "en":
            return "en"
        if language == "zh":
            rest = [p.casefold() for p in parts[1:]]
            if "hans" in rest:  # a script said outright outranks the region
                return "zh_Hans"
            if "hant" in rest or any(r.upper() in TRADITIONAL_REGIONS for r in rest):
                return "zh_Hant"
            return "zh_Hans"
    return None


@lru_cache(maxsize=512)
def _from_header(raw: str) -> str | None:
    """Browsers send a handful of distinct headers: each is parsed once per process."""
    return from_accept_language(parse_accept_header(raw, LanguageAccept))


def locale_for(code: str | None) -> Locale:
    """The Babel locale of a language code; English and unknown codes get the default."""
    if code in TRANSLATED:
        return _parsed(code)
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])


def chosen_code() -> str:
    """This request's language: the reader's cookie, else their browser's, else English.
    A calendar app sends no cookie: a feed's address may name one with ?lang=."""
    if not has_request_context():
        return "en"
    environ = request.environ
    code = code_of(request.cookies.get(COOKIE)) if "HTTP_COOKIE" in environ else None
    if code is None and request.blueprint == "calendars":
        code = code_of(request.args.get("lang"))
    if code is None:
        code = _from_header(environ.get("HTTP_ACCEPT_LANGUAGE", "")[:500])
    return code or "en"


def request_locale() -> Locale:
    return locale_for(chosen_code())


def current_code() -> str:
    """The code of the locale in force, forced or chosen: what a person's row stores."""
    locale = get_locale()
    if locale is not None and locale.language == "zh":
        traditional = locale.script == "Hant" or locale.territory in TRADITIONAL_REGIONS
        return "zh_Hant" if traditional else "zh_Hans"
    return "en"


def html_lang() -> str:
    """The BCP 47 tag for <html lang> and Content-Language."""
    return TAGS[current_code()]


@cache
def _compiled(code: str) -> support.Translations:
    """A .po catalogue compiled in memory. Fuzzy entries are left out, as by pybabel."""
    with (CATALOGUES / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = pofile.read_po(source, locale=code)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalogue)
    buffer.seek(0)
    return support.Translations(buffer)


class CompiledDomain(Domain):
    """Flask-Babel's domain, reading the catalogues compiled at start."""

    def get_translations(self):
        code = current_code()
        return _compiled(code) if code in TRANSLATED else support.NullTranslations()


@cache
def _form_messages(locale: Locale) -> support.Translations:
    return support.Translations.load(messages_path(), _catalogues(locale), domain="wtforms")


def _catalogues(locale: Locale) -> list[str]:
    """WTForms names its Chinese catalogues zh (Simplified) and zh_TW (Traditional);
    matched by script, Traditional readers would otherwise get Simplified."""
    if locale.language == "zh":
        traditional = locale.script == "Hant" or locale.territory in TRADITIONAL_REGIONS
        return ["zh_TW" if traditional else "zh"]
    return [str(locale), locale.language]


def form_messages() -> support.Translations:
    """WTForms' built-in messages ("Not a valid integer value.") for this request."""
    return _form_messages(get_locale() or request_locale())


# A choice is remembered for a year; it says nothing about the person but a language.
COOKIE_AGE = 365 * 24 * 3600


def remember_choice() -> Response | None:
    """A page asked for with ?lang= (the switcher's links, which work without
    JavaScript): keep the choice in the cookie and show the same address without it,
    so no page in a cache or a shared link carries a language it did not ask for.
    Calendar feeds take ?lang= as it is: calendar apps keep no cookie."""
    if "lang=" not in request.environ.get("QUERY_STRING", ""):
        return None  # most requests: the query string is not even parsed
    if request.method not in ("GET", "HEAD") or "lang" not in request.args:
        return None
    if request.blueprint == "calendars":
        return None
    args = request.args.copy()
    code = code_of(args.pop("lang"))
    query = urlencode(list(args.items(multi=True)))
    # one leading slash: "//host" would send the reader to another site
    response = redirect("/" + request.path.lstrip("/") + (f"?{query}" if query else ""), 303)
    if code is not None:
        response.set_cookie(
            COOKIE,
            code,
            max_age=COOKIE_AGE,
            secure=current_app.config["VIGIL_HTTPS"],
            httponly=True,
            samesite="Lax",
        )
    return response


LANGUAGE_VARY = "Accept-Language, Cookie"


def say_the_language(response: Response) -> Response:
    """Pages say which language they are in, and that it follows the reader's cookie
    and browser, so a shared cache keeps one copy per language. Plain header strings:
    this runs on every page, cached ones included."""
    headers = response.headers
    if headers.get("Content-Type", "").startswith("text/html"):
        headers["Content-Language"] = html_lang()
        vary = headers.get("Vary")
        if not vary:
            headers["Vary"] = LANGUAGE_VARY
        elif vary != LANGUAGE_VARY:
            response.vary.update(("Accept-Language", "Cookie"))
    return response


def init_languages(app: Flask) -> None:
    babel.init_app(app, locale_selector=request_locale)
    babel.domain_instance = CompiledDomain()  # in place of the one reading .mo files
    app.before_request(remember_choice)
    app.after_request(say_the_language)
    with app.app_context():
        for code in TRANSLATED:
            _compiled(code)  # a broken catalogue stops the start, not a page
