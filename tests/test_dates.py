"""Times written for people, in the event's own zone, across clock changes."""

from datetime import UTC, datetime

import pytest

from vigil.dates import format_moment, format_span


@pytest.mark.parametrize(
    "start, end, zone, expected",
    [
        (
            (2017, 12, 10, 11),
            (2017, 12, 10, 13),
            "Europe/London",
            "Sunday 10 December 2017, 11:00–13:00 GMT",
        ),
        (
            (2031, 7, 1, 17),
            (2031, 7, 1, 19),
            "Europe/London",
            "Tuesday 1 July 2031, 18:00–20:00 BST",
        ),
        # The night the clocks go back: 00:30 BST to 01:30 GMT.
        (
            (2030, 10, 26, 23, 30),
            (2030, 10, 27, 1, 30),
            "Europe/London",
            "Sunday 27 October 2030, 00:30 BST – 01:30 GMT",
        ),
        (
            (2030, 12, 10, 22),
            (2030, 12, 11, 2),
            "Europe/London",
            "Tuesday 10 December 2030, 22:00 GMT – Wednesday 11 December 2030, 02:00 GMT",
        ),
    ],
)
def test_format_span(app, start, end, zone, expected):
    with app.test_request_context():
        got = format_span(datetime(*start, tzinfo=UTC), datetime(*end, tzinfo=UTC), zone)
    assert got == expected


def test_format_moment_outside_a_request_uses_the_default_locale(app):
    with app.app_context():
        got = format_moment(datetime(2017, 12, 1, 9, tzinfo=UTC), "Europe/London")
    assert got == "Friday 1 December 2017, 09:00 GMT"
