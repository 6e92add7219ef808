"""Two-step log-in: required for admins, optional for others, codes used once."""

import re
from datetime import timedelta

import pyotp
import pytest
from helpers import csrf_token, login

from vigil import two_factor
from vigil.extensions import db
from vigil.models import AuditEntry, Organiser, utcnow


@pytest.fixture
def two_step_app(app):
    app.config["VIGIL_ADMIN_TWO_FACTOR"] = True
    return app


def enrol(client) -> str:
    """Turn two-step log-in on from the set-up page, as a person would; returns the secret."""
    page = client.get("/organiser/two-step").get_data(as_text=True)
    secret = re.search(r'<strong class="code">([A-Z2-7]+)</strong>', page).group(1)
    assert "<svg" in page  # the QR code, drawn on the server
    response = client.post(
        "/organiser/two-step",
        data={"csrf_token": csrf_token(page), "action": "enable", "code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 303
    return secret


def code_step(client, code):
    page = client.get("/organiser/login/code").get_data(as_text=True)
    return client.post("/organiser/login/code", data={"csrf_token": csrf_token(page), "code": code})


def test_an_admin_must_turn_it_on_before_anything_else(two_step_app, make_organiser, log_in):
    email = make_organiser("admin")
    client = log_in(email)
    response = client.get("/organiser/accounts")
    assert response.status_code == 303 and response.headers["Location"].endswith("/two-step")
    secret = enrol(client)
    assert client.get("/organiser/accounts").status_code == 200  # still logged in, now allowed
    # next time: password, then code
    fresh = two_step_app.test_client()
    response = login(fresh, email)
    assert response.headers["Location"].endswith("/organiser/login/code")
    assert fresh.get("/organiser/").status_code == 302  # not logged in between the steps
    assert code_step(fresh, "000000").status_code == 401
    totp = pyotp.TOTP(secret)
    good = totp.at(utcnow() + timedelta(seconds=30))  # the next step's code: clocks drift
    assert code_step(fresh, good).status_code == 303
    assert fresh.get("/organiser/").status_code == 200
    # the same code again, from someone who saw it: refused
    thief = two_step_app.test_client()
    login(thief, email)
    assert code_step(thief, good).status_code == 401
    with two_step_app.app_context():
        actions = db.session.scalars(db.select(AuditEntry.action)).all()
    assert actions.count("failed two-step code") == 2
    assert "turn on two-step log-in" in actions


def test_others_may_turn_it_on_and_off(two_step_app, make_organiser, log_in):
    email = make_organiser("organiser")
    client = log_in(email)
    assert client.get("/organiser/").status_code == 200  # not required
    secret = enrol(client)
    page = client.get("/organiser/two-step").get_data(as_text=True)
    assert "Two-step log-in is on" in page and "Turn it off" in page
    with two_step_app.app_context():
        account = db.session.scalar(db.select(Organiser).where(Organiser.email == email))
        assert account.totp_secret == secret and account.totp_pending is None
        raw = db.session.execute(
            db.text("SELECT totp_secret FROM organisers WHERE id = :i"), {"i": account.id}
        ).scalar()
        assert secret not in raw  # stored encrypted
    wrong = client.post(
        "/organiser/two-step",
        data={"csrf_token": csrf_token(page), "action": "disable", "code": "123456"},
    )
    assert wrong.status_code == 422
    later = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    off = client.post(
        "/organiser/two-step",
        data={"csrf_token": csrf_token(page), "action": "disable", "code": later},
    )
    assert off.status_code == 303
    assert login(two_step_app.test_client(), email).headers["Location"].endswith("/organiser/")


def test_an_admin_cannot_turn_it_off(two_step_app, ctx, make_organiser):
    email = make_organiser("admin")
    account = db.session.scalar(db.select(Organiser).where(Organiser.email == email))
    secret = two_factor.start_enrolment(account)
    assert two_factor.finish_enrolment(account, pyotp.TOTP(secret).now())
    later = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    assert not two_factor.disable(account, later, admins_must=True)
    assert two_factor.is_enabled(account)


def test_one_code_sent_twice_at_once_is_accepted_once(two_step_app, make_organiser):
    """Two sessions that both passed the password step send the same code together."""
    import threading

    email = make_organiser("organiser")
    with two_step_app.app_context():
        account = db.session.scalar(db.select(Organiser).where(Organiser.email == email))
        secret = two_factor.start_enrolment(account)
        assert two_factor.finish_enrolment(
            account, pyotp.TOTP(secret).at(utcnow() - timedelta(seconds=30))
        )
        db.session.commit()
        account_id = account.id
    code = pyotp.TOTP(secret).now()
    for attempt in range(5):  # several rounds: a race lost once proves little
        barrier, accepted = threading.Barrier(2), []

        def send(barrier=barrier, accepted=accepted):
            barrier.wait()
            with two_step_app.app_context():
                organiser = db.session.get(Organiser, account_id)
                ok = two_factor.verify(organiser, code)
                db.session.commit()
                accepted.append(ok)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(accepted) == ([False, True] if attempt == 0 else [False, False])


def test_the_code_step_expires_and_needs_the_password_first(two_step_app, make_organiser):
    client = two_step_app.test_client()
    response = client.get("/organiser/login/code")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    email = make_organiser("organiser")
    login(client, email)
    enrol(client)
    fresh = two_step_app.test_client()
    login(fresh, email)
    with fresh.session_transaction() as session:
        pending = dict(session["two_step_pending"])
        pending["at"] -= 301
        session["two_step_pending"] = pending
    assert fresh.get("/organiser/login/code").status_code == 303


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5"])
def test_malformed_codes_never_match(ctx, make_organiser, code):
    email = make_organiser("organiser")
    account = db.session.scalar(db.select(Organiser).where(Organiser.email == email))
    two_factor.start_enrolment(account)
    assert not two_factor.finish_enrolment(account, code)
