"""Knowing someone's address must not tell you whether they RSVPed, volunteered or have
an account: same status, same page, and the same time, for known and unknown alike."""

import statistics
import time

from helpers import csrf_token, login

FLOOR = 0.3


def same_time(a: list[float], b: list[float]) -> bool:
    """Medians within 15% of each other: a stored row plus an email to render would
    otherwise make a new address half as slow again as a known one."""
    first, second = statistics.median(a), statistics.median(b)
    return max(first, second) / min(first, second) < 1.15


def timed_post(client, url, data):
    page = client.get(url.rsplit("/rsvp", 1)[0] if url.endswith("/rsvp") else url)
    token = csrf_token(page.get_data(as_text=True))
    started = time.monotonic()
    response = client.post(url, data={**data, "csrf_token": token})
    return response, time.monotonic() - started


def test_an_rsvp_from_a_known_address_looks_and_takes_the_same(app, make_event):
    app.config["VIGIL_FORM_MIN_SECONDS"] = FLOOR
    event = make_event(capacity=100)
    url = f"/events/{event.slug}/rsvp"
    data = {"guests": "0", "consent": "y"}
    timed_post(app.test_client(), url, {**data, "email": "known@example.org"})
    known, unknown, pages = [], [], set()
    for i in range(6):
        for address, times in (("known@example.org", known), (f"new{i}@example.org", unknown)):
            client = app.test_client()
            response, seconds = timed_post(client, url, {**data, "email": address})
            assert response.status_code == 303
            times.append(seconds)
            pages.add(client.get(response.headers["Location"]).get_data(as_text=True))
    assert len(pages) == 1  # byte for byte the same confirmation page
    assert min(known + unknown) >= FLOOR
    assert same_time(known, unknown)


def test_a_volunteer_sign_up_from_a_known_address_takes_the_same(app, make_event, make_roles):
    app.config["VIGIL_FORM_MIN_SECONDS"] = FLOOR
    event = make_event()
    _, (leaflets,) = make_roles(event)
    url = f"/events/{event.slug}/volunteer"
    data = {"shifts": str(leaflets), "consent": "y"}
    timed_post(app.test_client(), url, {**data, "email": "known@example.org"})
    known, unknown = [], []
    for i in range(5):
        known.append(timed_post(app.test_client(), url, {**data, "email": "known@example.org"})[1])
        unknown.append(
            timed_post(app.test_client(), url, {**data, "email": f"n{i}@example.org"})[1]
        )
    assert min(known + unknown) >= FLOOR
    assert same_time(known, unknown)


def test_log_in_says_and_takes_the_same_for_unknown_addresses(app, make_organiser):
    email = make_organiser("organiser")
    wrong, unknown, texts = [], [], set()
    for i in range(5):
        for address, times in ((email, wrong), (f"nobody{i}@vigil.example", unknown)):
            client = app.test_client()
            client.get("/organiser/login")
            started = time.monotonic()
            response = login(client, address, "not the password at all")
            times.append(time.monotonic() - started)
            assert response.status_code == 401
            body = response.get_data(as_text=True)
            texts.add(body.split('<div class="alert"', 1)[1].split("</div>", 1)[0])
    assert len(texts) == 1
    assert same_time(wrong, unknown)
