"""Every string a person reads is marked for translation, in code, pages and emails."""

from pathlib import Path

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
