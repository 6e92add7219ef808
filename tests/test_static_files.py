"""Static files: addresses that change with the content, kept a year by browsers."""

import hashlib
import re
import shutil

import pytest
from flask import url_for

from vigil import PROJECT_ROOT

STYLESHEET = PROJECT_ROOT / "static" / "style.css"
A_YEAR = {"public", "max-age=31536000", "immutable"}
REVALIDATE = {"public", "no-cache"}


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def lifetime(response) -> set[str]:
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}


def fetch(client, path: str, **kwargs):
    """GET a file and close it, as a browser would once it has read the body."""
    with client.get(path, **kwargs) as response:
        response.get_data()
    return response


def stylesheet_link(client, path: str = "/") -> str:
    response = client.get(path)
    match = re.search(r'<link rel="stylesheet" href="([^"]+)">', response.get_data(as_text=True))
    assert match, f"no stylesheet on {path}"
    return match.group(1)


@pytest.fixture
def static_copy(app, tmp_path, monkeypatch):
    """The app serving a copy of the static folder that a test may edit."""
    folder = tmp_path / "static"
    shutil.copytree(STYLESHEET.parent, folder)
    monkeypatch.setattr(app, "static_folder", str(folder))
    return folder


def test_pages_link_the_stylesheet_by_the_hash_of_its_bytes(client, make_event):
    event = make_event()
    expected = f"/static/style.css?v={version_of(STYLESHEET.read_bytes())}"
    for path in ("/", f"/events/{event.slug}", "/organiser/login", "/no-such-page"):
        assert stylesheet_link(client, path) == expected, path


def test_the_linked_stylesheet_is_kept_a_year_with_the_security_headers(client):
    response = fetch(client, stylesheet_link(client))
    assert response.status_code == 200
    assert response.data == STYLESHEET.read_bytes()
    assert response.mimetype == "text/css"
    assert lifetime(response) == A_YEAR
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_new_content_gets_a_new_address_and_the_old_one_is_no_longer_kept(client, static_copy):
    old_link = stylesheet_link(client)
    assert old_link == f"/static/style.css?v={version_of(STYLESHEET.read_bytes())}"

    changed = STYLESHEET.read_bytes() + b"\nbody { color: black; }\n"
    (static_copy / "style.css").write_bytes(changed)
    new_link = stylesheet_link(client)
    assert new_link == f"/static/style.css?v={version_of(changed)}" != old_link

    fresh = fetch(client, new_link)
    assert fresh.data == changed and lifetime(fresh) == A_YEAR
    # A page still open from before the change asks by the old address: it gets the
    # new bytes, which must not be kept a year under that address.
    stale = fetch(client, old_link)
    assert stale.data == changed
    assert lifetime(stale) == REVALIDATE


def test_without_the_current_version_the_file_is_revalidated_each_time(client):
    current = version_of(STYLESHEET.read_bytes())
    for path in (
        "/static/style.css",
        "/static/style.css?v=000000000000",
        f"/static/style.css?v={current[:11]}",
        f"/static/style.css?v={current}0",
    ):
        response = fetch(client, path)
        assert response.status_code == 200, path
        assert response.data == STYLESHEET.read_bytes(), path
        assert lifetime(response) == REVALIDATE, path
        assert response.headers["ETag"] == f'"{current}"', path


def test_a_conditional_request_is_answered_304(client):
    link = stylesheet_link(client)
    etag = fetch(client, link).headers["ETag"]
    for path, kept in ((link, A_YEAR), ("/static/style.css", REVALIDATE)):
        response = fetch(client, path, headers={"If-None-Match": etag})
        assert response.status_code == 304, path
        assert response.data == b""
        assert lifetime(response) == kept
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    after_a_change = fetch(client, "/static/style.css", headers={"If-None-Match": '"000000000000"'})
    assert after_a_change.status_code == 200


def test_a_file_that_is_not_there_has_no_version_and_is_not_found(app, client):
    with app.test_request_context():
        assert url_for("static", filename="missing.css") == "/static/missing.css"
        assert url_for("static", filename="../pyproject.toml") == "/static/../pyproject.toml"
    assert client.get("/static/missing.css?v=000000000000").status_code == 404
    assert client.get("/static/%2E%2E/pyproject.toml").status_code == 404


def test_every_page_has_an_icon_and_a_manifest_and_favicon_ico_is_no_404(client):
    """A 404 on every first visit was the price of no icon."""
    page = client.get("/").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    manifest = re.search(r'<link rel="manifest" href="([^"]+)">', page).group(1)
    with client.get(icon) as served:
        assert served.status_code == 200
    with client.get("/favicon.ico") as served:
        assert served.headers["Content-Type"].startswith("image/svg+xml")
    with client.get(manifest) as served:
        assert served.status_code == 200 and served.json["name"] == "Vigil"
        assert all(i["src"].startswith("/static/") for i in served.json["icons"])  # own origin
