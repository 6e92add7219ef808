"""Public pages: the event list and the event page, as a person on a phone sees them."""

import re
from datetime import UTC, date, datetime, timedelta

from vigil.event_files import seed
from vigil.extensions import db
from vigil.models import EventStatus


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_index_lists_upcoming_soonest_first_then_past(client, make_event):
    soon = datetime.now(UTC) + timedelta(days=3)
    later = make_event(title="Later vigil", starts_at=soon + timedelta(days=20))
    sooner = make_event(title="Sooner vigil", starts_at=soon)
    past = make_event(title="Old vigil", starts_at=datetime(2017, 12, 10, 11, tzinfo=UTC))
    draft = make_event(title="Secret draft", status=EventStatus.DRAFT)
    html = page(client, "/")
    assert html.index(sooner.title) < html.index(later.title) < html.index("Past events")
    assert html.index("Past events") < html.index(past.title)
    assert draft.title not in html


def test_seed_event_page_shows_every_fact(app, client):
    with app.app_context():
        seed(date.today())
        db.session.commit()
    html = page(client, "/events/human-rights-day-2017")
    assert "Human Rights Day 2017: Free all prisoners of conscience" in html
    assert "Sunday 10 December 2017, 11:00–13:00 GMT" in html
    assert "Opposite the Chinese Embassy" in html
    assert "49-59 Portland Place, London W1B 1JL" in html
    assert "Nearest tubes: Great Portland Street, Oxford Circus" in html
    for name in (
        "Liu Xiaobo (刘晓波)",
        "Liu Xia (刘霞)",
        "Yang Tianshui 杨天水",
        "Huang Qi (黄琦)",
    ):
        assert name in html
    assert "Lee Ming-cheh" in html
    assert html.count("<li>", html.index("Our demands")) >= 3
    assert "release of all Tibetan, Uyghur, Chinese, HongKongese and Taiwanese" in html
    assert "This event has ended. RSVPs are closed." in html
    assert '<form method="post"' not in html  # no RSVP form on a past event
    osm = re.search(r'href="(https://www\.openstreetmap\.org/[^"]+)"', html)
    assert osm and "Portland%20Place" in osm.group(1)


def test_rescheduled_copy_takes_rsvps(app, client):
    with app.app_context():
        seed(date.today())
        db.session.commit()
    html = page(client, "/")
    slug = re.search(r'href="/events/(human-rights-day-20\d\d)"', html).group(1)
    assert slug != "human-rights-day-2017"
    event_html = page(client, f"/events/{slug}")
    assert re.search(r"\w+day 10 December 20\d\d, 11:00–13:00 GMT", event_html)
    assert f'action="/events/{slug}/rsvp#rsvp"' in event_html


def test_no_page_loads_anything_from_another_origin(client, make_event):
    event = make_event()
    for url in ("/", f"/events/{event.slug}", "/nothing-here"):
        html = client.get(url).get_data(as_text=True)
        # Nothing is loaded from elsewhere; the only outside links are plain links a
        # person may choose to follow (the map and Google Calendar).
        assert not re.search(r'src(set)?="(https?:)?//', html), url
        assert not re.search(
            r'href="(https?:)?//(?!www\.openstreetmap\.org/|calendar\.google\.com/)', html
        ), url
        assert "<script" not in html
        assert "<iframe" not in html


def test_event_page_uses_coordinates_for_the_map_link_when_known(client, make_event):
    event = make_event(latitude=51.52095, longitude=-0.1453)
    html = page(client, f"/events/{event.slug}")
    assert (
        "https://www.openstreetmap.org/?mlat=51.52095&amp;mlon=-0.14530#map=18/51.52095/-0.14530"
        in html
    )


def test_summer_event_is_shown_in_british_summer_time(client, make_event):
    event = make_event(
        starts_at=datetime(2031, 7, 1, 17, 0, tzinfo=UTC),
        ends_at=datetime(2031, 7, 1, 19, 0, tzinfo=UTC),
    )
    assert "Tuesday 1 July 2031, 18:00–20:00 BST" in page(client, f"/events/{event.slug}")


def test_cancelled_event_says_so_and_takes_no_rsvps(client, make_event):
    event = make_event(status=EventStatus.CANCELLED)
    html = page(client, f"/events/{event.slug}")
    assert "This event has been cancelled." in html
    assert "not taking RSVPs" in html
    assert '<form method="post"' not in html
    assert "Cancelled" in page(client, "/")


def test_draft_and_unknown_events_are_not_found(client, make_event):
    draft = make_event(status=EventStatus.DRAFT)
    assert client.get(f"/events/{draft.slug}").status_code == 404
    assert client.get("/events/no-such-event").status_code == 404


def test_description_is_shown_as_text_never_as_html(client, make_event):
    event = make_event(
        title="<b>Bold</b> title",
        description='<script>alert("x")</script>\n\nSecond <img src=x onerror=alert(1)>',
        demands=["<i>free</i> them"],
    )
    html = page(client, f"/events/{event.slug}")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; title" in html
    assert "&lt;i&gt;free&lt;/i&gt; them" in html
    assert html.count("<p>", html.index("Background")) >= 2


def test_places_left_is_a_count_and_names_are_never_public(client, make_event, make_rsvp):
    event = make_event(capacity=10)
    make_rsvp(event, name="Hidden Name", email="hidden@example.org", guests=2)
    html = page(client, f"/events/{event.slug}")
    assert "Places available" in html
    assert "Hidden Name" not in html
    assert "hidden@example.org" not in html


def test_every_field_has_a_visible_label(client, make_event):
    event = make_event()
    html = page(client, f"/events/{event.slug}")
    tags = re.findall(r"<(?:input|textarea)[^>]*>", html)
    visible = [t for t in tags if 'type="hidden"' not in t]
    assert len(visible) >= 6  # email, name, guests, access needs, updates, consent
    for tag in visible:
        field_id = re.search(r'\bid="([^"]+)"', tag).group(1)
        assert f'<label for="{field_id}">' in html, field_id
