"""Encryption at rest: the cipher, key rotation on the command line, look-ups meanwhile."""

from pathlib import Path

import pytest
from helpers import confirmed_sign_up
from sqlalchemy import select, text

from vigil import crypto, rsvps
from vigil.crypto import DataKeyError, DataKeys, new_key, parse_keys
from vigil.extensions import db
from vigil.models import Event, OutboxMessage, Rsvp, VolunteerSignup


def test_values_round_trip_with_a_fresh_nonce_and_are_bound_to_their_key():
    keys = DataKeys(parse_keys(new_key()))
    first, second = keys.encrypt("王丹 <wang@qq.com>"), keys.encrypt("王丹 <wang@qq.com>")
    assert first != second and keys.decrypt(first) == keys.decrypt(second) == "王丹 <wang@qq.com>"
    assert "wang" not in first
    other = DataKeys(parse_keys(new_key()))
    with pytest.raises(DataKeyError, match="no key with id"):
        other.decrypt(first)
    version, kid, payload = first.split(":")
    tampered = f"{version}:{kid}:{payload[:-4]}AAAA"
    with pytest.raises(DataKeyError, match="does not match"):
        keys.decrypt(tampered)


def test_look_ups_are_keyed_and_stable():
    keys = DataKeys(parse_keys(new_key()))
    assert keys.lookup("a@example.org") == keys.lookup("a@example.org")
    assert keys.lookup("a@example.org") != DataKeys(parse_keys(new_key())).lookup("a@example.org")


@pytest.mark.parametrize("bad", ["", "not base64!!", "c2hvcnQ="])
def test_bad_keys_are_refused(bad):
    with pytest.raises(DataKeyError):
        parse_keys(bad)


def raw_values(table: str, column: str) -> list[str]:
    return [v for v in db.session.execute(text(f"SELECT {column} FROM {table}")).scalars() if v]


def people(app, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        rsvps.create_rsvp(stored, email="ada@example.org", name="Ada")
        confirmed_sign_up(stored, email="lin@example.org", shift_ids=[leaflets], notes="Late")
        db.session.commit()
    return event


def test_rotating_the_instance_key_rewrites_every_value(app, runner, make_event, make_roles):
    event = people(app, make_event, make_roles)
    key_file = Path(app.instance_path) / "data_key"
    with app.app_context():
        old_id = crypto.data_keys().current_id
        old_key = key_file.read_text().strip()
        before = raw_values("rsvps", "email")
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "instance/data_key now holds only the new key" in result.output
    new_key_text = key_file.read_text().strip()
    assert new_key_text != old_key and "," not in new_key_text and "\n" not in new_key_text
    with app.app_context():
        new_id = crypto.data_keys().current_id
        assert new_id != old_id
        for table, column in (
            ("rsvps", "email"),
            ("rsvps", "name"),
            ("volunteer_signups", "notes"),
            ("outbox_messages", "context"),
        ):
            stored = raw_values(table, column)
            assert stored and all(v.startswith(f"v1:{new_id}:") for v in stored), (table, column)
        assert raw_values("rsvps", "email") != before
        assert db.session.scalars(select(Rsvp.name)).one() == "Ada"
        assert db.session.scalars(select(VolunteerSignup.notes)).one() == "Late"
        # the address is still found: a repeat changes nothing
        result = rsvps.create_rsvp(db.session.get(Event, event.id), email="ADA@example.org")
        assert not result.was_new
        db.session.rollback()
    assert "re-encrypted" in runner.invoke(args=["keys", "rotate"]).output  # again: fine


def test_rotating_keys_from_the_environment(app, runner, make_event, make_roles):
    event = people(app, make_event, make_roles)
    first, second = new_key(), new_key()
    with app.app_context():
        # start from a configured key: re-encrypt the instance key's rows under it
        instance_key = (Path(app.instance_path) / "data_key").read_text()
        app.config["VIGIL_DATA_KEY"] = f"{first},{instance_key}"
        crypto.init_keys(app)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    app.config["VIGIL_DATA_KEY"] = f"{second},{first}"
    with app.app_context():
        crypto.init_keys(app)
        # before the rotation runs, both keys are configured: look-ups still work
        repeat = rsvps.create_rsvp(db.session.get(Event, event.id), email="ada@example.org")
        assert not repeat.was_new
        db.session.rollback()
    result = runner.invoke(args=["keys", "rotate"])
    assert "drop the others" in result.output
    app.config["VIGIL_DATA_KEY"] = second
    with app.app_context():
        crypto.init_keys(app)
        assert db.session.scalars(select(Rsvp.email)).one() == "ada@example.org"
        assert len(db.session.scalars(select(OutboxMessage.recipient)).all()) == 3
    app.config["VIGIL_DATA_KEY"] = first  # the old key alone no longer opens anything
    with app.app_context():
        crypto.init_keys(app)
        with pytest.raises(DataKeyError):
            db.session.scalars(select(Rsvp.email)).one()


def test_keys_generate_prints_a_usable_key(runner):
    printed = runner.invoke(args=["keys", "generate"]).output.strip()
    assert len(parse_keys(printed)) == 1
