"""Logs never carry an address, a name or a manage token."""

import logging

from helpers import manage_link, sent_mail, submit

from vigil.logs import RedactTokens


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
