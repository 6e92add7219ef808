"""The application skeleton: configuration, the SQLite engine, errors, headers, health."""

import os
import stat

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from vigil import create_app, database
from vigil.config import database_url
from vigil.extensions import db


def test_secret_key_is_generated_once_and_kept_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance)})
    second = create_app({"INSTANCE_PATH": str(instance)})
    key_file = instance / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 64
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    other = create_app({"INSTANCE_PATH": str(tmp_path / "elsewhere")})
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_secret_key_and_database_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/vigil")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/vigil"
    assert not (tmp_path / "secret_key").exists()


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    assert database_url(None, str(tmp_path)) == f"sqlite:///{tmp_path}/vigil.sqlite3"
    assert database_url("sqlite:////x.db", "/i") == "sqlite:////x.db"


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/wal.sqlite3",
        }
    )
    with app.app_context():
        conn = db.session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_sqlite_files_are_readable_by_their_owner_only(tmp_path):
    """Organisers' addresses and password hashes are in the database in clear."""
    before = os.umask(0o022)  # a usual umask: files would be 0644
    try:
        _check_private_files(tmp_path)
    finally:
        os.umask(before)


def _check_private_files(tmp_path):
    path = tmp_path / "private.sqlite3"
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    )
    with app.app_context():
        db.create_all()
        db.session.connection().exec_driver_sql("CREATE TABLE probe (x)")
        db.session.connection().exec_driver_sql("INSERT INTO probe VALUES (1)")
        db.session.commit()
        files = [path, tmp_path / "private.sqlite3-wal", tmp_path / "private.sqlite3-shm"]
        assert all(f.exists() for f in files)
        assert [oct(stat.S_IMODE(f.stat().st_mode)) for f in files] == ["0o600"] * 3
        db.engine.dispose()
    path.chmod(0o644)  # made by an older version: put right at the next start
    create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_healthz_reports_the_database_and_nothing_personal(client, make_event, make_rsvp):
    event = make_event()
    make_rsvp(event, email="secret.person@example.org", name="Secret Person")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert b"secret" not in response.data.lower()


def test_healthz_says_503_when_the_database_is_gone(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_unknown_page_is_a_404_in_the_site_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert 'href="/static/style.css?v=' in html


def test_wrong_method_is_a_405_page(client):
    response = client.delete("/")
    assert response.status_code == 405
    assert "Method not allowed" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


def test_an_unexpected_error_is_a_plain_500_page_without_details(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("internal detail that must not be shown")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html
    assert "internal detail" not in html
    assert "Traceback" not in html


def test_every_response_forbids_loading_from_elsewhere(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_database_check_constraints_hold(ctx):
    with pytest.raises(IntegrityError):
        db.session.execute(
            text(
                "INSERT INTO events (uuid, slug, title, summary, description, demands, venue,"
                " street_address, locality, postcode, transport, starts_at, ends_at, timezone,"
                " status, sequence, created_at, updated_at) VALUES ('u', 's', 't', '', '', '[]',"
                " 'v', 'a', 'l', 'p', '', '2030-01-01 10:00:00', '2030-01-01 09:00:00',"
                " 'Europe/London', 'published', 0, '2030-01-01', '2030-01-01')"
            )
        )
        db.session.flush()


def test_processes_starting_together_share_one_complete_secret(tmp_path, monkeypatch):
    import multiprocessing

    monkeypatch.delenv("SECRET_KEY", raising=False)
    instance = tmp_path / "shared"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        keys = pool.map(_read_secret, [str(instance)] * 12)
    assert len(set(keys)) == 1
    assert len(keys[0]) == 64


def _read_secret(instance: str) -> str:
    from vigil.config import instance_secret

    return instance_secret(instance, "secret_key")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it(app, make_event):
    """The server ends a pooled session (a restart does this to all of them): the next
    request still gets its page, not the 503 of a dead connection."""
    event = make_event()
    client = app.test_client()
    assert client.get(f"/events/{event.slug}/rsvp/done").status_code == 302
    with app.app_context():
        other = db.engine.connect()
        pooled = db.engine.connect()
        pid = pooled.scalar(text("SELECT pg_backend_pid()"))
        pooled.close()  # back in the pool, idle
        assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.close()
    for _ in range(3):
        assert client.get(f"/events/{event.slug}/rsvp/done").status_code == 302


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_live_pooled_connection_is_used_without_a_ping(app, make_event, monkeypatch):
    """Checking a connection costs no round trip to the database: only a connection idle
    for long is pinged (a firewall may have dropped it without a word)."""
    event = make_event()
    client = app.test_client()
    pings = []
    with app.app_context():
        dialect = db.engine.dialect
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    for _ in range(3):
        assert client.get(f"/events/{event.slug}/rsvp/done").status_code == 302
    assert pings == []
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)
    assert client.get(f"/events/{event.slug}/rsvp/done").status_code == 302
    assert len(pings) == 1
