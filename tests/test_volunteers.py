"""Volunteer rules, called directly: places, overlaps, phones, repeats, changes, rosters."""

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from helpers import mail_dir, sent_mail, text_body
from sqlalchemy import func, select

from vigil import rosters, volunteers
from vigil.extensions import db
from vigil.models import (
    Event,
    OutboxMessage,
    ShiftAssignment,
    VolunteerSignup,
    VolunteerToken,
)
from vigil.spreadsheets import neutralise, write_csv


def event_of(event) -> Event:
    return db.session.get(Event, event.id)


def sign(event, email="v@example.org", shifts=(), **kw):
    """A sign-up as a person makes it: sent, then confirmed from their mailbox."""
    result = volunteers.sign_up(event_of(event), email=email, shift_ids=list(shifts), **kw)
    db.session.commit()
    if result.was_new:
        volunteers.confirm_signup(db.session.get(VolunteerSignup, result.signup.id))
        db.session.commit()
    return result


def test_sign_up_books_shifts_and_emails_them_with_a_calendar(ctx, app, make_event, make_roles):
    event = make_event()
    (steward_before, steward_during), (leaflets,) = make_roles(event)
    result = sign(
        event,
        shifts=[steward_before, leaflets],
        name="Lin",
        phone="+44 7700 900123",
        languages="English, Mandarin",
    )
    assert result.was_new
    signup = db.session.get(VolunteerSignup, result.signup.id)
    assert sorted(a.shift_id for a in signup.assignments) == sorted([steward_before, leaflets])
    asked, msg = sent_mail(app)
    assert asked["Subject"] == f"Please confirm that you want to volunteer: {event.title}"
    assert not list(asked.iter_attachments())  # nothing is theirs before they confirm
    assert msg["Subject"] == f"Thank you for volunteering: {event.title}"
    body = text_body(msg)
    assert "Steward:" in body and "Leafleting:" in body
    assert "Meet at: By the railings" in body and "Bring: Hi-vis vest" in body
    assert "/volunteer/" in body and "/shifts.ics" in body
    (attachment,) = list(msg.iter_attachments())
    cal = icalendar.Calendar.from_ical(attachment.get_content())
    uids = sorted(str(v["UID"]) for v in cal.walk("VEVENT"))
    assert len(uids) == 2 and all(u.startswith("shift-") for u in uids)
    assert "ATTENDEE" not in attachment.get_content()


@pytest.mark.parametrize(
    "choose, message",
    [
        (lambda ids: [], "Choose at least one shift."),
        (lambda ids: [ids[1], ids[1]], "Each shift can be chosen only once."),
        (lambda ids: [999999], "Choose shifts from this event's list."),
        (lambda ids: [ids[1], ids[2]], "overlap in time"),
    ],
)
def test_bad_choices_are_refused_and_nothing_is_stored(
    ctx, make_event, make_roles, choose, message
):
    event = make_event()
    (a, b), (c,) = make_roles(event)
    with pytest.raises(volunteers.ShiftProblem, match=message):
        volunteers.sign_up(
            event_of(event),
            email="x@example.org",
            shift_ids=choose([a, b, c]),
            phone="0123 456 789",
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(VolunteerSignup)) == 0


def test_a_shift_of_another_event_cannot_be_chosen(ctx, make_event, make_roles):
    event, other = make_event(), make_event()
    make_roles(event)
    ((foreign, _), _) = make_roles(other)
    with pytest.raises(volunteers.ShiftProblem, match="this event's list"):
        volunteers.sign_up(
            event_of(event), email="x@example.org", shift_ids=[foreign], phone="0123456"
        )


def test_full_and_started_shifts_are_refused(ctx, make_event, make_roles):
    event = make_event(starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30))
    (before, during), (leaflets,) = make_roles(event)
    with pytest.raises(volunteers.ShiftProblem, match="already started"):
        volunteers.sign_up(
            event_of(event), email="x@example.org", shift_ids=[before], phone="0123456"
        )
    db.session.rollback()
    for i in range(3):
        sign(event, email=f"l{i}@example.org", shifts=[leaflets])
    with pytest.raises(volunteers.ShiftProblem, match="is full"):
        volunteers.sign_up(event_of(event), email="late@example.org", shift_ids=[leaflets])


def test_a_role_that_needs_a_phone_asks_for_one(ctx, make_event, make_roles):
    event = make_event()
    (_, during), (leaflets,) = make_roles(event)
    with pytest.raises(volunteers.ShiftProblem) as info:
        volunteers.sign_up(event_of(event), email="x@example.org", shift_ids=[during])
    assert info.value.field == "phone"
    db.session.rollback()
    assert sign(event, shifts=[leaflets]).was_new  # leafleting needs no phone


def test_same_address_again_changes_nothing_and_gets_a_fresh_link(ctx, app, make_event, make_roles):
    event = make_event()
    (_, during), (leaflets,) = make_roles(event)
    first = sign(event, email="lin@example.org", shifts=[leaflets], name="Lin")
    sent_mail(app)
    later = datetime.now(UTC) + timedelta(minutes=11)
    again = volunteers.sign_up(
        event_of(event),
        email="LIN@example.org",
        shift_ids=[during],
        phone="0123456",
        name="Other",
        now=later,
    )
    db.session.commit()
    assert not again.was_new and again.signup.id == first.signup.id
    signup = db.session.get(VolunteerSignup, first.signup.id)
    assert signup.name == "Lin" and [a.shift_id for a in signup.assignments] == [leaflets]
    mails = sent_mail(app)
    assert len(mails) == 3
    assert "nothing was changed" in text_body(mails[2])
    # A repeat still gets the same checks as a newcomer would: a bad choice is refused.
    with pytest.raises(volunteers.ShiftProblem):
        volunteers.sign_up(event_of(event), email="lin@example.org", shift_ids=[during])


def test_add_and_drop_shifts(ctx, app, make_event, make_roles):
    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    result = sign(event, shifts=[before], phone="0123456")
    signup = db.session.get(VolunteerSignup, result.signup.id)
    with pytest.raises(volunteers.ShiftProblem, match="already have"):
        volunteers.add_shifts(signup, [before])
    db.session.rollback()
    volunteers.add_shifts(signup, [during])
    db.session.commit()
    signup = db.session.get(VolunteerSignup, result.signup.id)
    with pytest.raises(volunteers.ShiftProblem, match="overlap"):
        volunteers.add_shifts(signup, [leaflets])
    db.session.rollback()
    signup = db.session.get(VolunteerSignup, result.signup.id)
    volunteers.drop_shift(signup, before)
    db.session.commit()
    assert volunteers.shift_fill(event_of(event))[before] == 0  # the place is free at once
    signup = db.session.get(VolunteerSignup, result.signup.id)
    with pytest.raises(volunteers.ShiftProblem, match="only shift"):
        volunteers.drop_shift(signup, during)
    subjects = [m["Subject"] for m in sent_mail(app)]
    assert subjects.count(f"Your shifts have changed: {event.title}") == 2


def test_withdrawing_erases_everything(ctx, app, make_event, make_roles):
    event = make_event()
    (_, _), (leaflets,) = make_roles(event)
    result = sign(event, email="gone@example.org", shifts=[leaflets], name="Gone")
    sent_mail(app)
    volunteers.withdraw(db.session.get(VolunteerSignup, result.signup.id))
    db.session.commit()
    for model in (VolunteerSignup, ShiftAssignment, VolunteerToken, OutboxMessage):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    assert not any("gone@example.org" in p.read_text() for p in mail_dir(app).glob("*.eml"))


def test_shift_reminders_go_once_per_person_per_shift(ctx, app, runner, make_event, make_roles):
    event = make_event(starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5))
    (before, during), (leaflets,) = make_roles(event)
    sign(event, email="a@example.org", shifts=[before, during], phone="0123456")
    sign(event, email="b@example.org", shifts=[leaflets])
    sent_mail(app)
    first = runner.invoke(args=["mail", "send-reminders"])
    assert "shift reminders queued: 3" in first.output
    again = runner.invoke(args=["mail", "send-reminders"])
    assert "shift reminders queued: 0" in again.output
    reminders = [m for m in sent_mail(app) if m["Subject"].startswith("Reminder, your shift")]
    # The shifts start within hours, not "tomorrow": the subject names the day and time.
    assert all("tomorrow" not in m["Subject"] and " on " in m["Subject"] for m in reminders)
    assert sorted(m["To"] for m in reminders) == ["a@example.org", "a@example.org", "b@example.org"]


def test_roster_lists_gaps_first_with_what_coordinators_need(ctx, runner, make_event, make_roles):
    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    sign(
        event,
        email="a@example.org",
        shifts=[before],
        name="Ayşe",
        languages="Uyghur",
        phone="0123456",
    )
    sign(event, email="b@example.org", shifts=[before], name="Bo", phone="0654321")
    rows = rosters.roster(event_of(event))
    assert rows[-1].shift.id == before and rows[-1].left == 0  # the full shift comes last
    assert [p.name for p in rows[-1].people] == ["Ayşe", "Bo"]
    result = runner.invoke(args=["volunteers", "roster", event.slug])
    assert result.exit_code == 0
    assert "Ayşe (Uyghur, 0123456)" in result.output
    assert "(2 needed)" in result.output


def test_roster_csv_has_a_bom_and_neutralises_formulas(
    ctx, runner, tmp_path, make_event, make_roles
):
    event = make_event()
    (before, _), _ = make_roles(event)
    sign(
        event,
        email="a@example.org",
        shifts=[before],
        name='=HYPERLINK("x")',
        phone="+44 7700 900123",
        notes="@SUM(1)",
    )
    path = tmp_path / "roster.csv"
    assert (
        runner.invoke(args=["volunteers", "roster", event.slug, "--csv", str(path)]).exit_code == 0
    )
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["role", "shift starts"]
    person = next(r for r in rows[1:] if r[6])
    assert person[6] == '\'=HYPERLINK("x")' and person[8] == "'+44 7700 900123"
    assert person[9] == "'@SUM(1)"


def test_neutralise_covers_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", " =", "\u3000＝"):
        assert neutralise(start + "1").startswith("'"), start
    assert neutralise("刘晓波") == "刘晓波" and neutralise("Lin = Bo") == "Lin = Bo"
    out = io.StringIO()
    write_csv(out, ["a"], [["-1"]])
    assert out.getvalue().splitlines() == ["a", "'-1"]


def test_100_simultaneous_confirmations_for_a_shift_of_10(app, make_event, make_roles):
    """Asking holds nothing, so all 100 sign-ups are taken; confirming takes the
    places, and exactly 10 of 100 people confirming at once get one."""
    event = make_event()
    _, (leaflets,) = make_roles(
        event, spec=[({"name": "Steward"}, [(0, 1, 1)]), ({"name": "Leafleting"}, [(0, 1, 10)])]
    )
    with app.app_context():
        ids = []
        for i in range(100):
            result = volunteers.sign_up(
                db.session.get(Event, event.id), email=f"p{i}@example.org", shift_ids=[leaflets]
            )
            db.session.commit()
            ids.append(result.signup.id)
        assert volunteers.shift_fill(db.session.get(Event, event.id))[leaflets] == 0
    barrier = threading.Barrier(100)
    outcomes = [None] * 100

    def one(i: int):
        with app.app_context():
            barrier.wait()
            missed = volunteers.confirm_signup(db.session.get(VolunteerSignup, ids[i]))
            db.session.commit()
            outcomes[i] = "missed" if missed else "booked"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert outcomes.count("booked") == 10 and outcomes.count("missed") == 90
    with app.app_context():
        assert volunteers.shift_fill(db.session.get(Event, event.id))[leaflets] == 10


def test_a_pending_sign_up_holds_nothing_and_confirming_says_what_filled_up(
    ctx, app, make_event, make_roles
):
    event = make_event()
    (before, _), (leaflets,) = make_roles(event)
    asked = volunteers.sign_up(
        event_of(event), email="slow@example.org", shift_ids=[before, leaflets], phone="0123456"
    )
    db.session.commit()
    fill = volunteers.shift_fill(event_of(event))
    assert fill[before] == 0 and fill[leaflets] == 0
    assert rosters.roster(event_of(event))[0].people == []  # organisers see confirmed people
    pending = db.session.get(VolunteerSignup, asked.signup.id)
    with pytest.raises(volunteers.ShiftProblem, match="Confirm your sign-up first"):
        volunteers.add_shifts(pending, [leaflets])
    db.session.rollback()
    for i in range(3):  # leafleting fills up (3 places) before the person confirms
        sign(event, email=f"quick{i}@example.org", shifts=[leaflets])
    missed = volunteers.confirm_signup(db.session.get(VolunteerSignup, asked.signup.id))
    db.session.commit()
    assert len(missed) == 1 and missed[0].startswith("Leafleting, ")
    signup = db.session.get(VolunteerSignup, asked.signup.id)
    assert [a.shift_id for a in signup.assignments] == [before]
    assert volunteers.shift_fill(event_of(event))[leaflets] == 3
    told = [m for m in sent_mail(app) if m["To"] == "slow@example.org"][-1]
    body = text_body(told)
    assert "These shifts filled up before you confirmed" in body and missed[0] in body
    assert "Steward:" in body


def test_unconfirmed_sign_ups_are_erased(ctx, app, make_event, make_roles):
    event = make_event()
    _, (leaflets,) = make_roles(event)
    volunteers.sign_up(event_of(event), email="never@example.org", shift_ids=[leaflets])
    sign(event, email="kept@example.org", shifts=[leaflets])
    assert volunteers.expire_unconfirmed() == 0
    assert volunteers.expire_unconfirmed(datetime.now(UTC) + timedelta(hours=25)) == 1
    db.session.commit()
    left = db.session.scalars(select(VolunteerSignup)).all()
    assert [s.email for s in left] == ["kept@example.org"]
    owners = set(db.session.scalars(select(OutboxMessage.signup_id)))
    assert owners == {left[0].id}


def test_dropping_a_shift_strikes_it_from_calendars(ctx, app, make_event, make_roles):
    event = make_event()
    (before, during), (leaflets,) = make_roles(event)
    result = sign(event, shifts=[before, leaflets], phone="0123456")
    volunteers.drop_shift(db.session.get(VolunteerSignup, result.signup.id), before)
    db.session.commit()
    _, _, changed = sent_mail(app)
    cal = icalendar.Calendar.from_ical(next(changed.iter_attachments()).get_content())
    statuses = sorted(str(v["STATUS"]) for v in cal.walk("VEVENT"))
    assert statuses == ["CANCELLED", "CONFIRMED"]


def test_a_shift_dropped_then_taken_again_supersedes_its_cancellation(
    ctx, app, make_event, make_roles
):
    """Calendars keep the entry with the highest SEQUENCE (then the latest DTSTAMP): a
    shift taken again must outrank the cancellation sent when it was dropped."""
    event = make_event()
    (before, _), (leaflets,) = make_roles(event)
    result = sign(event, shifts=[before, leaflets], phone="0123456")
    signup_id = result.signup.id
    volunteers.drop_shift(db.session.get(VolunteerSignup, signup_id), leaflets)
    db.session.commit()
    volunteers.add_shifts(db.session.get(VolunteerSignup, signup_id), [leaflets])
    db.session.commit()
    *_, dropped, taken_again = sent_mail(app)

    def leaflet_entry(message):
        (attachment,) = list(message.iter_attachments())
        cal = icalendar.Calendar.from_ical(attachment.get_content())
        return next(v for v in cal.walk("VEVENT") if "Leafleting" in str(v["SUMMARY"]))

    struck, back = leaflet_entry(dropped), leaflet_entry(taken_again)
    assert str(struck["STATUS"]) == "CANCELLED" and str(back["STATUS"]) == "CONFIRMED"
    assert int(back["SEQUENCE"]) > int(struck["SEQUENCE"])
    assert back.decoded("DTSTAMP") >= struck.decoded("DTSTAMP")


def test_a_method_goes_only_with_a_single_uid(ctx, app, make_event, make_roles):
    """RFC 5546 allows one UID per file with a METHOD; the MIME type says the same."""
    event = make_event()
    (before, _), (leaflets,) = make_roles(event)
    sign(event, email="one@example.org", shifts=[leaflets])
    sign(event, email="two@example.org", shifts=[before, leaflets], phone="0123456")
    by_address = {m["To"]: m for m in sent_mail(app) if m["Subject"].startswith("Thank you")}
    one = next(by_address["one@example.org"].iter_attachments())
    two = next(by_address["two@example.org"].iter_attachments())
    assert "METHOD:PUBLISH" in one.get_content()
    assert one.get_content_type() == "text/calendar" and one.get_param("method") == "PUBLISH"
    assert "METHOD" not in two.get_content() and two.get_param("method") is None
    assert len(icalendar.Calendar.from_ical(two.get_content()).walk("VEVENT")) == 2
