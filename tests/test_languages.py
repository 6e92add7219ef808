"""English, Simplified and Traditional Chinese: chosen by the reader (a cookie, else
the browser), said by every page, and kept with each person for their emails."""

import re
from datetime import UTC, datetime

import pytest
from helpers import csrf_token, sent_mail, submit, text_body
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from vigil import volunteers
from vigil.extensions import db
from vigil.languages import COOKIE, from_accept_language
from vigil.models import Event, Rsvp, VolunteerSignup

HANS, HANT = "zh_Hans", "zh_Hant"


@pytest.mark.parametrize(
    "header, expected",
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", HANS),
        ("zh-SG", HANS),
        ("zh", HANS),
        ("zh-Hans-HK", HANS),
        ("zh-TW,zh;q=0.9", HANT),
        ("zh-HK", HANT),
        ("zh-MO", HANT),
        ("zh-Hant", HANT),
        ("en-US,en;q=0.9,zh-CN;q=0.5", "en"),
        ("fr-FR,zh-TW;q=0.5", HANT),
        ("fr-FR,de;q=0.5", None),
        ("", None),
    ],
)
def test_the_browser_s_languages_choose_a_script(header, expected):
    assert from_accept_language(parse_accept_header(header, LanguageAccept)) == expected


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.text).group(1)


@pytest.mark.parametrize(
    "header, tag, word",
    [
        ("zh-CN", "zh-Hans", "即将举行"),
        ("zh-HK", "zh-Hant", "即將舉行"),
        ("en-GB", "en-GB", "Coming up"),
    ],
)
def test_pages_answer_in_the_browser_s_language_and_say_so(client, make_event, header, tag, word):
    make_event()
    response = client.get("/", headers={"Accept-Language": header})
    assert _lang(response) == tag
    assert response.headers["Content-Language"] == tag
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    assert word in response.text


def test_the_switcher_keeps_the_choice_in_a_cookie_and_shows_the_same_page(client, make_event):
    event = make_event()
    page = client.get(f"/events/{event.slug}", headers={"Accept-Language": "zh-CN"})
    switcher = re.search(r'<nav class="languages".*?</nav>', page.text, re.S).group(0)
    assert re.findall(r"<a href=\"\?lang=(\w+)\"", switcher) == ["en", HANS, HANT]
    assert "English" in switcher and "简体中文" in switcher and "繁體中文" in switcher
    assert 'lang="zh-Hans" aria-current="true"' in switcher
    chosen = client.get(f"/events/{event.slug}?lang=zh-Hant&alarm=60")
    assert chosen.status_code == 303
    assert chosen.headers["Location"] == f"/events/{event.slug}?alarm=60"
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=zh_Hant;") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    # the cookie outranks the browser's own languages, on every page after
    again = client.get(f"/events/{event.slug}", headers={"Accept-Language": "zh-CN"})
    assert _lang(again) == "zh-Hant" and "報名" in again.text
    assert _lang(client.get("/privacy", headers={"Accept-Language": "en"})) == "zh-Hant"
    back = client.get("/privacy?lang=en")
    assert back.headers["Set-Cookie"].startswith(f"{COOKIE}=en;")
    assert _lang(client.get("/privacy", headers={"Accept-Language": "zh-CN"})) == "en-GB"


def test_a_language_link_cannot_send_anyone_to_another_site(client):
    response = client.get("/?lang=en", environ_overrides={"PATH_INFO": "//evil.example/"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/evil.example/"
    assert client.get("/?lang=klingon").headers.get("Set-Cookie") is None


def test_the_switcher_is_on_organiser_pages_too(client):
    page = client.get("/organiser/login", headers={"Accept-Language": "zh-TW"})
    assert _lang(page) == "zh-Hant" and "登入" in page.text
    assert 'class="languages"' in page.text


def test_dates_are_written_the_way_each_language_writes_them(client, make_event):
    start = datetime(2030, 12, 10, 11, tzinfo=UTC)
    event = make_event(starts_at=start)
    url = f"/events/{event.slug}"
    hans = client.get(url, headers={"Accept-Language": "zh-CN"}).text
    assert "2030年12月10日星期二 11:00–13:00（英国时间）" in hans
    hant = client.get(url, headers={"Accept-Language": "zh-TW"}).text
    assert "2030年12月10日星期二 11:00–13:00（英國時間）" in hant
    english = client.get(url, headers={"Accept-Language": "en"}).text
    assert "Tuesday 10 December 2030, 11:00–13:00 GMT" in english


def test_a_cached_page_is_kept_once_per_language(client, make_event):
    make_event()
    english = client.get("/", headers={"Accept-Language": "en"})
    chinese = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert english.headers["ETag"] != chinese.headers["ETag"]
    crossed = client.get(
        "/", headers={"Accept-Language": "zh-CN", "If-None-Match": english.headers["ETag"]}
    )
    assert crossed.status_code == 200 and _lang(crossed) == "zh-Hans"
    same = client.get(
        "/", headers={"Accept-Language": "zh-CN", "If-None-Match": chinese.headers["ETag"]}
    )
    assert same.status_code == 304


def test_form_errors_come_in_the_reader_s_script(client, make_event):
    event = make_event()
    url = f"/events/{event.slug}"
    client.set_cookie(COOKIE, HANT)
    response = submit(client, url, f"{url}/rsvp", {"email": "not an address", "guests": "0"})
    assert response.status_code == 422
    assert re.search(r"<title>[^<]*錯誤", response.text) or "錯誤" in response.text
    summary = re.search(r'id="error-summary".*?</div>', response.text, re.S).group(0)
    words = re.sub(r"<[^>]+>|name@example\.org", "", summary.partition(">")[2])
    assert not re.search(r"[A-Za-z]{3,}", words), summary


def _rsvp_in(client, event, email: str, code: str | None):
    if code:
        client.set_cookie(COOKIE, code)
    url = f"/events/{event.slug}"
    data = {"email": email, "guests": "0", "consent": "y"}
    assert submit(client, url, f"{url}/rsvp", data).status_code == 303


def test_each_person_s_emails_keep_the_language_they_rsvped_in(app, make_event):
    from vigil import attendees

    event = make_event(title="Vigil", capacity=None)
    for email, code in (
        ("hans@example.org", HANS),
        ("hant@example.org", HANT),
        ("en@example.org", None),
    ):
        _rsvp_in(app.test_client(), event, email, code)
    with app.app_context():
        stored = {r.email: r.language for r in db.session.scalars(db.select(Rsvp))}
    assert stored == {"hans@example.org": HANS, "hant@example.org": HANT, "en@example.org": "en"}
    first = {m["To"]: m for m in sent_mail(app)}
    assert first["hans@example.org"]["Subject"] == "你已获得名额：Vigil"
    assert "你的报名" in text_body(first["hans@example.org"])
    html = first["hant@example.org"].get_body(preferencelist=("html",)).get_content()
    assert '<html lang="zh-Hant">' in html and "報名" in html
    assert first["hant@example.org"]["Subject"] == "你已獲得名額：Vigil"
    assert first["en@example.org"]["Subject"] == "You have a place: Vigil"
    # an English-speaking organiser's cancellation reaches each in their own script
    with app.test_request_context(headers={"Accept-Language": "en"}):
        stored_event = db.session.get(Event, event.id)
        stored_event.status = "cancelled"
        attendees.notify_event_cancelled(stored_event)
        db.session.commit()
    later = {m["To"]: m for m in sent_mail(app)[3:]}
    assert "已取消" in later["hans@example.org"]["Subject"]
    assert "2030" not in later["hans@example.org"]["Subject"]
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text_body(later["hant@example.org"]))
    assert later["en@example.org"]["Subject"] == "Cancelled: Vigil"


def _message(client, url: str, **translations) -> dict:
    """The organisers' message form as sent, in English and maybe in other languages."""
    page = client.get(url).text
    return {
        "csrf_token": csrf_token(page),
        "key": re.search(r'name="key" type="hidden" value="(\w+)"', page).group(1),
        "audience": "confirmed",
        "subject": "Bring candles",
        "body": "Please bring a candle.",
        **translations,
    }


def test_organisers_see_who_reads_what_and_may_write_in_each(app, make_event, signed_in):
    event = make_event(title="Vigil", capacity=None)
    _rsvp_in(app.test_client(), event, "hans@example.org", HANS)
    _rsvp_in(app.test_client(), event, "hant@example.org", HANT)
    _rsvp_in(app.test_client(), event, "en@example.org", None)
    sent_mail(app)
    client = signed_in("organiser", [event])
    url = f"/organiser/events/{event.slug}/message"
    form = _message(client, url, subject_zh_Hans="请带蜡烛", body_zh_Hans="请带一支蜡烛。")
    preview = client.post(url, data=form).text
    assert "They read:" in preview
    assert re.search(r"English 1 · 简体中文 1 · 繁體中文 1|简体中文 1", preview)
    assert "1 reader of 繁體中文 gets the text in the first language below" in preview
    previewed = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview).group(1)
    client.post(url, data={**form, "previewed": previewed, "confirm": "y"})
    got = {m["To"]: m for m in sent_mail(app)[3:]}
    assert got["hans@example.org"]["Subject"] == "请带蜡烛"
    assert "请带一支蜡烛。" in text_body(got["hans@example.org"])
    assert got["hant@example.org"]["Subject"] == "Bring candles"
    assert got["en@example.org"]["Subject"] == "Bring candles"


def test_half_a_translation_is_refused_next_to_its_field(app, make_event, signed_in):
    event = make_event()
    client = signed_in("organiser", [event])
    url = f"/organiser/events/{event.slug}/message"
    response = client.post(url, data=_message(client, url, subject_zh_Hant="請帶蠟燭"))
    assert response.status_code == 422
    assert 'id="body_zh_Hant-error"' in response.text and "請帶蠟燭" in response.text


def test_a_volunteer_s_feed_and_emails_follow_their_language(app, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        signup = volunteers.sign_up(
            db.session.get(Event, event.id),
            email="v@example.org",
            shift_ids=[leaflets],
            language=HANT,
        ).signup
        volunteers.confirm_signup(signup)
        db.session.commit()
    (asked, thanked) = sent_mail(app)
    assert "義工" in asked["Subject"] and "義工" in thanked["Subject"]
    feed = re.search(r"http://vigil\.test(/volunteer/[\w-]+/shifts\.ics)", text_body(thanked))
    with app.app_context():
        assert db.session.scalar(db.select(VolunteerSignup.language)) == HANT
    body = app.test_client().get(feed.group(1)).data.decode()
    assert "集合地點" in body or "請攜帶" in body or "我的班次" in body
