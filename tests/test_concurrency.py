"""Places stay exact when many people RSVP in the same instant, on SQLite and PostgreSQL."""

import threading

from helpers import csrf_token, recorded_statements
from sqlalchemy import func, select

from vigil import people, rsvps
from vigil.events import places_left
from vigil.extensions import db
from vigil.models import Event, Rsvp, RsvpStatus


def run_at_once(count: int, work) -> list:
    """Start `count` threads, release them together, and collect results or errors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i: int):
        try:
            results[i] = work(i, barrier)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def test_200_simultaneous_rsvps_then_confirmations_for_50_places_over_http(app, make_event):
    event = make_event(capacity=50)
    url = f"/events/{event.slug}"

    def one_person(i: int, barrier: threading.Barrier) -> int:
        client = app.test_client()
        token = csrf_token(client.get(url).get_data(as_text=True))
        barrier.wait()
        response = client.post(
            f"{url}/rsvp",
            data={
                "csrf_token": token,
                "email": f"person{i}@example.org",
                "guests": "0",
                "consent": "y",
            },
        )
        return response.status_code

    results = run_at_once(200, one_person)
    assert results == [303] * 200, [r for r in results if r != 303][:3]
    with app.app_context():
        assert places_left(db.session.get(Event, event.id)) == 50  # asking takes nothing
        links = [f"/rsvp/{people.issue_token(r)}" for r in db.session.scalars(select(Rsvp))]
        db.session.commit()

    def one_confirmation(i: int, barrier: threading.Barrier) -> int:
        client = app.test_client()
        token = csrf_token(client.get(links[i]).get_data(as_text=True))
        barrier.wait()
        response = client.post(links[i], data={"csrf_token": token, "action": "confirm"})
        return response.status_code

    results = run_at_once(200, one_confirmation)
    assert results == [303] * 200, [r for r in results if r != 303][:3]
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(Rsvp.status, func.count())
                .where(Rsvp.event_id == event.id)
                .group_by(Rsvp.status)
            ).all()
        )
    assert counts == {RsvpStatus.CONFIRMED: 50, RsvpStatus.WAITLISTED: 150}


def test_groups_racing_for_places_never_overfill_and_cancellations_promote(app, make_event):
    event = make_event(capacity=30)

    def one_group(i: int, barrier: threading.Barrier):
        with app.app_context():
            barrier.wait()
            stored = db.session.get(Event, event.id)
            result = rsvps.create_rsvp(stored, email=f"g{i}@example.org", guests=i % 4)
            db.session.commit()
            if i % 5 == 0:  # some change their minds straight away
                rsvps.cancel_rsvp(db.session.get(Rsvp, result.rsvp.id))
                db.session.commit()
            return result.status

    results = run_at_once(60, one_group)
    assert not [r for r in results if isinstance(r, Exception)], results
    with app.app_context():
        rows = db.session.scalars(select(Rsvp).where(Rsvp.event_id == event.id)).all()
        taken = sum(r.places for r in rows if r.status == RsvpStatus.CONFIRMED)
        waiting = [r for r in rows if r.status == RsvpStatus.WAITLISTED]
        assert taken <= 30
        # No one left waiting who would fit in the places that are free.
        assert all(r.places > 30 - taken for r in waiting)
        assert len(rows) == 60


def test_simultaneous_actions_on_one_rsvp_act_on_its_current_state(app, make_event, make_rsvp):
    """Erase and cancel racing on one RSVP: one wins, the other is refused, none fails."""
    for _round in range(10):
        event = make_event(capacity=1)
        _, token = make_rsvp(event)
        make_rsvp(event, status=RsvpStatus.WAITLISTED)
        link = f"/rsvp/{token}"

        def act(i: int, barrier: threading.Barrier, link=link) -> int:
            client = app.test_client()
            token_value = csrf_token(client.get(link).get_data(as_text=True))
            barrier.wait()
            data = {"csrf_token": token_value, "action": ["erase", "cancel", "cancel"][i % 3]}
            if data["action"] == "erase":
                data["confirm"] = "y"
            return client.post(link, data=data).status_code

        results = run_at_once(3, act)
        assert all(r in (303, 404, 409) for r in results), results
        assert results.count(303) >= 1
        with app.app_context():
            taken = db.session.scalar(
                select(func.count()).where(Rsvp.event_id == event.id, Rsvp.status == "confirmed")
            )
        assert taken == 1  # the waitlisted person moved up exactly once


def test_a_waitlisted_update_racing_a_promotion_never_overfills(app, make_event, make_rsvp):
    for _round in range(10):
        event = make_event(capacity=1)
        holder, _ = make_rsvp(event)
        waiting, _ = make_rsvp(event, status=RsvpStatus.WAITLISTED)

        def act(i: int, barrier: threading.Barrier, holder=holder, waiting=waiting):
            with app.app_context():
                barrier.wait()
                if i == 0:
                    rsvps.cancel_rsvp(db.session.get(Rsvp, holder.id))
                else:
                    rsvps.update_rsvp(
                        db.session.get(Rsvp, waiting.id),
                        name=None,
                        guests=4,
                        accessibility=None,
                        wants_updates=False,
                    )
                db.session.commit()

        run_at_once(2, act)
        with app.app_context():
            confirmed = db.session.scalars(
                select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.status == "confirmed")
            ).all()
            assert sum(r.places for r in confirmed) <= 1


def test_an_rsvp_holds_the_lock_only_for_the_capacity_check_and_the_write(
    app, client, make_event, engine_name
):
    """The form is read and checked first; the lock (SQLite's write lock, PostgreSQL's
    shared row lock: sending the form takes no place) is taken for the write, and
    what it covers touches only the event, its RSVPs and the outbox."""
    event = make_event(capacity=10)
    token = csrf_token(client.get(f"/events/{event.slug}").get_data(as_text=True))
    data = {"csrf_token": token, "email": "lock@example.org", "guests": "0", "consent": "y"}
    with recorded_statements(app) as statements:
        assert client.post(f"/events/{event.slug}/rsvp", data=data).status_code == 303
    locking = "BEGIN IMMEDIATE" if engine_name == "sqlite" else "FOR SHARE"
    [start] = [i for i, s in enumerate(statements) if locking in s]
    assert any("FROM events" in s for s in statements[:start]), "the event is read first"
    assert any(s.startswith("INSERT INTO rsvps") for s in statements[start:])
    tables = {"events", "rsvps", "outbox_messages", "rsvp_tokens"}
    for statement in statements[start + 1 :]:
        named = {w for w in statement.replace(",", " ").split() if w in tables | {"organisers"}}
        assert named <= tables, statement


def test_one_address_twice_at_once_without_a_limit_keeps_one_rsvp(app, make_event):
    """Without a limit, RSVPs share the event's lock (PostgreSQL): the same address sent
    twice at once still makes one RSVP, and both people get the ordinary answer."""
    event = make_event(capacity=None)

    def work(i, barrier):
        with app.app_context():
            stored = db.session.get(Event, event.id)
            db.session.commit()  # no transaction held while waiting for the others
            barrier.wait()
            result = rsvps.create_rsvp(stored, email="Twice@Example.org")
            db.session.commit()
            return result.was_new

    results = run_at_once(8, work)
    assert sorted(results) == [False] * 7 + [True], results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 1


def test_a_crowd_without_a_limit_does_not_wait_for_one_another(app, make_event, engine_name):
    """While one RSVP's transaction is open, another to the same event goes through on
    PostgreSQL, with or without a limit (a shared lock: sending the form takes no
    place); a change to the event itself waits for it. SQLite has one writer at a
    time in every case."""
    open_event, limited = make_event(capacity=None), make_event(capacity=10)
    outcomes = {}

    def second(event, key, change=False):
        with app.app_context():
            stored = db.session.get(Event, event.id)
            if change:
                rsvps.lock_event(stored).title = "Changed"
            else:
                rsvps.create_rsvp(stored, email=f"{key}@example.org")
            db.session.commit()
            outcomes[key] = "done"

    for event, key, change in (
        (open_event, "open", False),
        (limited, "limited", False),
        (open_event, "edit", True),
    ):
        with app.app_context():
            rsvps.create_rsvp(db.session.get(Event, event.id), email=f"first-{key}@example.org")
            thread = threading.Thread(target=second, args=(event, key, change))
            thread.start()
            thread.join(timeout=1.5)  # the first transaction is still open meanwhile
            went_through = outcomes.get(key) == "done"
            db.session.commit()
        thread.join(timeout=30)
        assert outcomes.get(key) == "done"
        expected = engine_name == "postgresql" and key in ("open", "limited")
        assert went_through == expected, (key, went_through)
