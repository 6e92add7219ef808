"""Sessions that end on their own, cookies bound to the host, headers on every response."""

import pytest
from flask.sessions import SecureCookieSessionInterface
from helpers import login
from itsdangerous import URLSafeTimedSerializer

from vigil import create_app, organisers
from vigil.session_cookies import CSRF_SALT, QuickSerializer

CONFIG = {"VIGIL_SESSION_IDLE_MINUTES": 30, "VIGIL_SESSION_MAX_HOURS": 12}


def test_a_session_ends_after_30_idle_minutes_or_12_hours_in_all():
    session = {}
    organisers.start_session(session, 1_000_000)
    assert organisers.session_is_fresh(session, 1_000_000 + 29 * 60, CONFIG)
    assert session["seen_at"] == 1_000_000 + 29 * 60  # activity restarts the idle clock
    assert not organisers.session_is_fresh(session, 1_000_000 + 60 * 60, CONFIG)
    # busy all day: still out after 12 hours
    session = {}
    organisers.start_session(session, 0)
    for minute in range(0, 12 * 60, 20):
        assert organisers.session_is_fresh(session, minute * 60, CONFIG)
    assert not organisers.session_is_fresh(session, 12 * 3600 + 60, CONFIG)
    assert not organisers.session_is_fresh({}, 0, CONFIG)
    assert not organisers.session_is_fresh({"login_at": "0", "seen_at": 0}, 0, CONFIG)


def test_an_idle_organiser_is_sent_back_to_log_in(app, make_organiser):
    client = app.test_client()
    assert login(client, make_organiser("admin")).status_code == 303
    assert client.get("/organiser/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    response = client.get("/organiser/")
    assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]


def test_every_page_is_kept_out_of_caches_unless_it_says_otherwise(client, make_event):
    event = make_event()
    for path in ("/organiser/login", "/no-such-page", f"/events/{event.slug}/rsvp/done"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    # Public pages say so: the event page holds this session's form token, so only
    # the visitor's own browser may keep it, and always asks again before using it.
    assert client.get("/").headers["Cache-Control"] == "public, no-cache"
    assert client.get(f"/events/{event.slug}").headers["Cache-Control"] == "private, no-cache"
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Saved.")]
    assert client.get(f"/events/{event.slug}").headers["Cache-Control"] == "no-store"
    assert client.get("/calendar.ics").headers["Cache-Control"].startswith("public")
    with client.get("/static/style.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


@pytest.fixture
def https_app(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIL_BASE_URL", "https://vigil.example.org")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/v.sqlite3",
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "https-test",
        }
    )
    return app


def test_over_https_cookies_are_host_bound_and_hsts_is_sent(https_app):
    response = https_app.test_client().get("/organiser/login", base_url="https://vigil.example.org")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-vigil=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie


def test_plain_http_gets_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_debug_mode_is_refused_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIL_BASE_URL", "https://vigil.example.org")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="debug mode is refused"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})


def test_cookies_and_tokens_signed_before_an_upgrade_still_work(app, make_event):
    """Session cookies and form tokens are signed by QuickSerializer; a visitor who
    holds ones signed as Flask and Flask-WTF sign them keeps their session and can
    still send the form they opened, and the other way round."""
    event = make_event()
    with app.test_request_context():
        flasks = SecureCookieSessionInterface().get_signing_serializer(app)
        ours = app.session_interface.get_signing_serializer(app)
        plain = URLSafeTimedSerializer(app.secret_key, salt=CSRF_SALT)
        quick = QuickSerializer(app.secret_key, salt=CSRF_SALT)
    old_session = {"csrf_token": "a" * 40, "rsvp_outcome": {"slug": event.slug, "status": "x"}}
    assert ours.loads(flasks.dumps(old_session)) == old_session
    assert flasks.loads(ours.dumps(old_session)) == old_session
    assert plain.loads(quick.dumps("a" * 40)) == "a" * 40
    long_flash = {"_flashes": [("message", "x" * 400)]}
    assert ours.dumps(long_flash).startswith(".")  # long payloads are still compressed
    assert flasks.loads(ours.dumps(long_flash)) == long_flash

    client = app.test_client()
    cookie = app.config["SESSION_COOKIE_NAME"]
    client.set_cookie(cookie, flasks.dumps({"csrf_token": "b" * 40}), domain="localhost")
    data = {
        "csrf_token": plain.dumps("b" * 40),
        "email": "upgraded@example.org",
        "guests": "0",
        "consent": "y",
    }
    response = client.post(f"/events/{event.slug}/rsvp", data=data)
    assert response.status_code == 303
