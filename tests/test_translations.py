"""Every string a person reads is marked for translation, in code, pages and emails."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from helpers import csrf_token

ROOT = Path(__file__).resolve().parent.parent


def extracted() -> set[str]:
    method_map = [
        ("vigil/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    options = {
        "templates/**.html": {"extensions": "jinja2.ext.do"},
        "templates/**.txt": {"extensions": "jinja2.ext.do"},
    }
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={**DEFAULT_KEYWORDS, "_l": None}
    ):
        messages.update(message if isinstance(message, tuple) else (message,))
    return messages


def test_strings_from_code_pages_and_emails_are_extracted():
    messages = extracted()
    for text in (
        "You have a place.",  # page
        "This event has ended. RSVPs are closed.",  # page
        "Please enter your email address.",  # form
        "Guests must be between 0 and %(max)d.",  # form, with a value
        "This event has been cancelled, so it is not taking RSVPs.",  # domain rule
        "Page not found",  # error page
        "You have a place: %(title)s",  # email subject
        "Good news: a place has opened up, and it is yours. You are no longer on the waitlist.",
        "You are bringing %(num)d guest.",  # plural
    ):
        assert text in messages, text


def test_the_form_library_speaks_the_page_language(app, make_event, client):
    """WTForms' own messages ("Not a valid integer value.") follow the request's
    language too; they are read from its catalogue once per process, not per form."""
    event = make_event()
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "email": "a@example.org", "guests": "lots"}
    english = client.post(f"/events/{event.slug}/rsvp", data=data).get_data(as_text=True)
    assert "Not a valid integer value." in english
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_TW"
    chinese = client.post(f"/events/{event.slug}/rsvp", data=data).get_data(as_text=True)
    assert "Not a valid integer value." not in chinese
    assert "不是有效的整數" in chinese


# ---------------------------------------------------------------- the Chinese catalogues

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|<[^>]+>")


def catalogue(code: str):
    from babel.messages.pofile import read_po

    path = ROOT / "vigil" / "translations" / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        return read_po(source, locale=code)


def extracted_singulars() -> set[str]:
    """Each message once, by its singular: what a catalogue is looked up by."""
    method_map = [
        ("vigil/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    options = {key: {"extensions": "jinja2.ext.do"} for key, _ in method_map[1:]}
    return {
        message[0] if isinstance(message, tuple) else message
        for _f, _l, message, _c, _x in extract_from_dir(
            str(ROOT), method_map, options, keywords={**DEFAULT_KEYWORDS, "_l": None}
        )
    }


@pytest.mark.parametrize("code", ["zh_Hans", "zh_Hant"])
def test_every_string_is_translated_in_both_chinese_catalogues(code):
    """The day someone adds a string and no translation, this fails and names it."""
    found = catalogue(code)
    problems = []
    for text in sorted(extracted_singulars()):
        entry = found.get(text)
        translated = entry and (entry.string[0] if entry.pluralizable else entry.string)
        if not translated:
            problems.append(f"missing: {text!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {text!r}")
        else:
            source = entry.id[-1] if entry.pluralizable else entry.id
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(translated)):
                problems.append(f"placeholders differ: {text!r} -> {translated!r}")
    assert not problems, f"{len(problems)} in {code}:\n" + "\n".join(problems)


def test_traditional_is_not_simplified_by_another_name():
    """Spot words that differ between the two, not only in their characters."""
    hans, hant = catalogue("zh_Hans"), catalogue("zh_Hant")
    assert hans["Volunteer"].string == "做志愿者" or "志愿者" in hans["Volunteer"].string
    assert "義工" in hant["Volunteer"].string
    assert "登入" in hant["Log in"].string and "登录" in hans["Log in"].string
    assert "電郵" in hant["Email"].string


def test_catalogues_are_sources_only_compiled_when_the_app_starts(app):
    """No binary catalogue is kept: the .po files are compiled in memory at start."""
    import subprocess

    listing = ["git", "ls-files", "*.mo"]  # git from PATH, as a developer runs it
    tracked = subprocess.run(listing, cwd=ROOT, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert tracked == ""
    assert not list((ROOT / "vigil" / "translations").rglob("*.mo"))
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        from flask_babel import gettext

        assert gettext("Log in") == catalogue("zh_Hant")["Log in"].string
