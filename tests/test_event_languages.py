"""An event's own words in Simplified and Traditional Chinese: given in the organiser
form or in an event file, shown to readers of each, the original elsewhere."""

import re
from datetime import date

import pytest
from test_event_files import BASIC, write
from test_organiser_events import NEW_EVENT, post_form

from vigil.event_files import EventFileError, read_event_file, seed
from vigil.extensions import db
from vigil.models import Event


def _read(client, url: str, language: str) -> str:
    return client.get(url, headers={"Accept-Language": language}).text


def test_an_organiser_gives_the_event_s_words_in_chinese(app, signed_in):
    client = signed_in()
    data = {
        **NEW_EVENT,
        "title_zh_Hant": "釋放黃之鋒",
        "description_zh_Hant": "我們中午集合。\n\n請帶蠟燭。",
        "demands_zh_Hant": "釋放他\n釋放所有人",
        "title_zh_Hans": "释放黄之锋",
    }
    assert post_form(client, "/organiser/events/new", data).status_code == 303
    with app.app_context():
        translations = db.session.scalar(
            db.select(Event.translations).where(Event.slug == "free-joshua-wong")
        )
    assert translations == {
        "zh_Hant": {
            "title": "釋放黃之鋒",
            "description": "我們中午集合。\n\n請帶蠟燭。",
            "demands": ["釋放他", "釋放所有人"],
        },
        "zh_Hans": {"title": "释放黄之锋"},
    }
    edit = client.get("/organiser/events/free-joshua-wong/edit").text
    assert (
        'id="title_zh_Hant"' in edit
        and "釋放黃之鋒" in edit
        and '<details class="translation" open>' in edit
    )
    client.post(
        "/organiser/events/free-joshua-wong/publish",
        data={
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', edit).group(
                1
            )
        },
    )
    public = app.test_client()
    hant = _read(public, "/events/free-joshua-wong", "zh-HK")
    assert "<h1>釋放黃之鋒</h1>" in hant and "請帶蠟燭。" in hant and "釋放所有人" in hant
    assert "Outside the office" in hant  # no translation given: the original
    hans = _read(public, "/events/free-joshua-wong", "zh-CN")
    assert "<h1>释放黄之锋</h1>" in hans and "We gather at noon." in hans
    english = _read(public, "/events/free-joshua-wong", "en")
    assert "<h1>Free Joshua Wong</h1>" in english and "釋放" not in english
    assert "釋放黃之鋒" in _read(public, "/", "zh-TW")
    ics = public.get("/events/free-joshua-wong.ics", headers={"Accept-Language": "zh-TW"})
    assert "SUMMARY:釋放黃之鋒" in ics.data.decode()


def test_an_event_file_may_carry_its_words_in_chinese(tmp_path):
    text = BASIC + '\n[events.translations.zh_Hans]\ntitle = "悼念刘晓波"\ndemands = ["释放刘霞"]\n'
    (columns,) = read_event_file(write(tmp_path, text))
    assert columns["translations"] == {"zh_Hans": {"title": "悼念刘晓波", "demands": ["释放刘霞"]}}


@pytest.mark.parametrize(
    "table, message",
    [
        ('[events.translations.fr]\ntitle = "Veillée"', "unknown languages: fr"),
        ('[events.translations.zh_Hant]\nslug = "x"', "unknown keys: slug"),
        ('[events.translations.zh_Hant]\ntitle = "' + "長" * 201 + '"', "longer than 200"),
    ],
)
def test_a_bad_translation_in_a_file_is_named(tmp_path, table, message):
    with pytest.raises(EventFileError, match=message):
        read_event_file(write(tmp_path, BASIC + "\n" + table + "\n"))


def test_the_seed_speaks_chinese_with_the_copy_s_own_year(ctx):
    seed(date(2030, 1, 5))
    db.session.commit()
    copy = db.session.scalar(db.select(Event).where(Event.slug == "human-rights-day-2030"))
    assert copy.translations["zh_Hans"]["title"].startswith("2030年人权日")
    assert copy.translations["zh_Hant"]["title"].startswith("2030年人權日")
    assert "刘晓波" in copy.translations["zh_Hans"]["description"]
    assert "劉曉波" in copy.translations["zh_Hant"]["description"]
    original = db.session.scalar(db.select(Event).where(Event.slug == "human-rights-day-2017"))
    assert original.translations["zh_Hant"]["venue"] == "中國大使館對面"
