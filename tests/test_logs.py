"""Logs never carry an address, a name or a manage token."""

import logging

import pytest
from helpers import manage_link, sent_mail, submit

from vigil.logs import RedactTokens, redact


def test_access_log_lines_have_token_paths_redacted():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        ("127.0.0.1", "GET /rsvp/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG HTTP/1.1", "200"),
        None,
    )
    RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1 - - "GET /rsvp/[token] HTTP/1.1" 200'


TOKEN = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.mark.parametrize(
    "path",
    [
        f"/rsvp/{TOKEN}",
        f"/rsvp//{TOKEN}",
        f"//rsvp/{TOKEN}",
        f"/rsvp/%34{TOKEN[1:]}",
        "/rsvp/" + "".join(f"%{ord(c):02X}" for c in TOKEN),
        f"/%72svp/{TOKEN}",
        f"/RSVP/{TOKEN}",
        f"/volunteer/{TOKEN}/shifts.ics",
        f"/volunteer/{TOKEN}/",
        f"http://vigil.example/rsvp/{TOKEN}",
        f"/rsvp/{TOKEN}?action=cancel",
    ],
)
def test_every_spelling_of_a_token_path_is_redacted(path):
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        (f"GET {path} HTTP/1.1", "404"),
        None,
    )
    RedactTokens().filter(record)
    line = record.getMessage()
    assert "[token]" in line
    assert TOKEN[5:20] not in line and "".join(f"%{ord(c):02X}" for c in TOKEN[5:20]) not in line


def test_paths_without_a_token_are_left_alone():
    for path in ("/events/human-rights-day-2017/rsvp/done", "/events/x/volunteer", "/rsvp/short"):
        assert redact(f"GET {path} HTTP/1.1") == f"GET {path} HTTP/1.1"


def test_the_error_log_and_its_tracebacks_are_redacted_too():
    """gunicorn logs "Error handling request <uri>" with the exception, e.g. when a
    request passes its deadline."""
    try:
        raise RuntimeError(f"while handling /rsvp/{TOKEN}")
    except RuntimeError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "gunicorn.error",
        logging.ERROR,
        __file__,
        1,
        "Error handling request %s",
        (f"/rsvp/{TOKEN}",),
        exc_info,
    )
    RedactTokens().filter(record)
    text = logging.Formatter().format(record)
    assert "Error handling request /rsvp/[token]" in text and "RuntimeError" in text
    assert TOKEN not in text


def test_a_whole_rsvp_flow_logs_no_personal_data(app, client, make_event, caplog):
    caplog.set_level(logging.DEBUG)
    event = make_event(capacity=1)
    url = f"/events/{event.slug}"
    submit(
        client,
        url,
        f"{url}/rsvp",
        {
            "email": "Private.Person@example.org",
            "name": "Wang Secret",
            "guests": "0",
            "accessibility": "wheelchair",
            "consent": "y",
        },
    )
    submit(
        client,
        url,
        f"{url}/rsvp",
        {"email": "second.person@example.org", "guests": "0", "consent": "y"},
    )
    link = manage_link(sent_mail(app)[0])
    submit(client, link, link, {"action": "update", "name": "Wang Secret 2", "guests": "0"})
    submit(client, link, link, {"action": "cancel"})
    submit(client, link, link, {"action": "erase", "confirm": "y"})
    logged = "\n".join(r.getMessage() for r in caplog.records).lower()
    assert "rsvp created" in logged  # the flow did log
    token = link.rsplit("/", 1)[1].lower()
    for secret in (
        "private.person",
        "second.person",
        "example.org",
        "wang secret",
        "wheelchair",
        token,
    ):
        assert secret not in logged


def test_volunteer_organiser_mail_and_purge_flows_log_no_personal_data(
    app, make_event, make_roles, make_organiser, caplog
):
    """Every other flow that handles people's details, with log capture at DEBUG."""
    import re
    from datetime import timedelta

    from helpers import csrf_token, login

    from vigil import retention
    from vigil.models import utcnow

    caplog.set_level(logging.DEBUG)
    event = make_event(capacity=50)
    _, (leaflets,) = make_roles(event)
    public = app.test_client()
    url = f"/events/{event.slug}/volunteer"
    submit(
        public,
        url,
        url,
        {
            "email": "volunteer.hidden@example.org",
            "name": "Zhou Hiddenname",
            "phone": "+44 7700 900999",
            "languages": "Uyghur",
            "notes": "Meet at the flat",
            "shifts": [str(leaflets)],
            "consent": "y",
        },
    )
    submit(
        public,
        f"/events/{event.slug}",
        f"/events/{event.slug}/rsvp",
        {
            "email": "attendee.hidden@example.org",
            "name": "Li Hidden",
            "guests": "0",
            "consent": "y",
        },
    )
    mails = sent_mail(app)
    texts = [m.get_body(("plain",)).get_content() for m in mails]
    volunteer_link = re.search(
        r"http://vigil\.test(/volunteer/[A-Za-z0-9_-]+)(?![A-Za-z0-9_/-])", "\n".join(texts)
    )
    rsvp_link = re.search(r"http://vigil\.test(/rsvp/[A-Za-z0-9_-]+)", "\n".join(texts))
    volunteer_path, rsvp_path = volunteer_link.group(1), rsvp_link.group(1)
    assert public.get(volunteer_path).status_code == 200, volunteer_path
    public.get(rsvp_path)
    page = public.get(rsvp_path).get_data(as_text=True)
    public.post(rsvp_path, data={"csrf_token": csrf_token(page), "action": "confirm"})

    organiser = app.test_client()
    login(organiser, make_organiser("organiser", [event]))
    base = f"/organiser/events/{event.slug}"
    token = csrf_token(organiser.get(f"{base}/attendees").get_data(as_text=True))
    organiser.post(f"{base}/attendees", data={"csrf_token": token, "q": "Li Hidden"})
    organiser.get(f"{base}/attendees.csv")
    organiser.get(f"{base}/roster")
    organiser.post(f"{base}/check-in", data={"csrf_token": token, "q": "attendee.hidden"})
    organiser.post(
        f"{base}/walk-up",
        data={
            "csrf_token": token,
            "name": "Walkup Hidden",
            "email": "walk.hidden@example.org",
            "guests": "0",
            "check_in": "y",
        },
    )
    sent_mail(app)  # the worker delivers what the flows queued
    submit(public, volunteer_path, volunteer_path, {"action": "withdraw", "confirm": "y"})
    with app.app_context():
        retention.purge(default_days=0, now=utcnow() + timedelta(days=40))

    logged = "\n".join(r.getMessage() for r in caplog.records).lower()
    assert "organiser" in logged and "purged" in logged  # the flows did log
    for secret in (
        "hidden",  # every address and name above carries it
        "example.org",
        "+44 7700",
        "uyghur",
        "meet at the flat",
        volunteer_path.rsplit("/", 1)[1].lower(),
        rsvp_path.rsplit("/", 1)[1].lower(),
    ):
        assert secret not in logged, secret
