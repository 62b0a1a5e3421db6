"""Notifications: digests and links reach a real SMTP server and a real HTTP SMS gateway, once each, with
only the family's own children and link; failures end sent or failed with a reason; opt-outs work."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from app.base import settings
from app.base.extensions import db
from app.base.models import (
    Family,
    FamilyLink,
    GuardianChannel,
    NotifyAttempt,
    NotifyMessage,
    Student,
    Teacher,
    TeacherEmail,
    WeekView,
)
from app.notify import alerts, compose, jobs, worker
from app.notify.channels import set_channel
from app.notify.config import EmailConfig, SmsConfig, notify_config
from app.notify.digest import family_weeks, parse_week
from app.notify.outbox import PassReport, deliver_due, purge, ref_of
from app.notify.segments import encoding, segments
from app.notify.transports import HttpSmsTransport, Outgoing, RateLimit, SmtpTransport
from static_site.links import link_url, rotate
from sync import clock
from tests.notify_support import WEEK, Gateway, SmtpServer, family, journal, two_families
from tests.school import LESSON_DAY, Machine, attendance_key, build_tiny_school, lesson_fields, ms_at, period_grade_key


def smtp(port: int) -> SmtpTransport:
    return SmtpTransport(EmailConfig("127.0.0.1", port, "none", "", "", "Школа № 1 <diary@school.example>", 0, 5))


def sms(url: str, timeout: float = 0.5) -> HttpSmsTransport:
    return HttpSmsTransport(SmsConfig(url, "gw-secret", "SHKOLA1", 0, timeout))


def test_segments_are_counted_as_gsm_7_and_ucs_2_do():
    assert (segments("a" * 160), segments("a" * 161), segments("a" * 306), segments("a" * 307)) == (1, 2, 2, 3)
    assert (segments("я" * 70), segments("я" * 71), segments("я" * 134), segments("я" * 135)) == (1, 2, 2, 3)
    assert encoding("Hello {x}") == "GSM-7" and segments("{" * 80) == 1 and segments("{" * 81) == 2
    assert segments("a" * 159 + "€") == 2 and segments("a" * 159 + "я") == 3  # one Cyrillic letter: UCS-2
    # An escape pair is never split between parts: 306 septets, but the € moves whole to the second part.
    assert segments("a" * 152 + "€" + "a" * 151) == 2 and segments("a" * 152 + "€" + "a" * 152) == 3


def test_digest_email_reaches_a_real_smtp_server_with_its_own_family_only(app, client, runner):
    school = build_tiny_school()
    journal(client, school)
    people = two_families(school)
    result = runner.invoke(args=["notify", "digest", "--week", WEEK])
    assert "сообщений 3, новых в очереди 3" in result.output, result.output
    assert "новых в очереди 0" in runner.invoke(args=["notify", "digest", "--week", WEEK]).output  # twice: no more
    with SmtpServer() as server:
        report = worker.run(app, once=True, transports={"email": smtp(server.port)}, sleep=lambda s: None)
        assert report.sent == 4  # each guardian's link (queued when issued) and digest
        worker.run(app, once=True, transports={"email": smtp(server.port)}, sleep=lambda s: None)
        inbox = server.inbox
    assert len(inbox.messages) == 4  # nothing twice
    mother = next(m for m in inbox.to("olga@example.org") if m["Subject"].startswith("Дневник"))
    assert mother["Subject"] == "Дневник за неделю 16.11.2026–21.11.2026: Иванова Мария"
    raw = mother.as_bytes()
    assert b"=?utf-8?" in raw.split(b"\n\n", 1)[0].lower()  # the Cyrillic subject is encoded
    text = mother.get_body(("plain",)).get_content()
    assert mother.get_body(("plain",)).get_content_charset() == "utf-8"
    assert mother.get_body(("html",)) is not None
    own = db.session.scalars(select(FamilyLink).where(FamilyLink.guardian_id == people["mother"].id)).one()
    other = db.session.scalars(select(FamilyLink).where(FamilyLink.guardian_id == people["father"].id)).one()
    assert link_url(settings(), own.token) in text and other.token not in text
    assert "Уважаемая Ольга Николаевна!" in text and "Математика: 5" in text and "н (Б)" in text
    assert "к 23.11 Математика: Параграф 12, задачи 1–5" in text and "Контрольная: уравнения" in text
    assert "Смирнов" not in text and ": 2" not in text
    assert mother["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/notify/unsubscribe/")
    father = next(m for m in inbox.to("oleg@example.org") if m["Subject"].startswith("Дневник"))
    father = father.get_body(("plain",)).get_content()
    assert "Смирнов Павел" in father and "Иванова" not in father and own.token not in father


def test_sms_digest_fits_two_cyrillic_segments_with_the_link(app, client):
    school = build_tiny_school()
    journal(client, school)
    two_families(school)
    plan = jobs.plan_digests(settings(), parse_week(WEEK))
    text = next(d.body for d in plan.drafts if d.channel == "sms")
    assert encoding(text) == "UCS-2" and segments(text) <= 2, (text, len(text))
    assert "Мария: 5, пропусков 1, к/р 1" in text and "/d/" in text and "СТОП" in text
    many = dataclasses.replace(next(iter(family_weeks(settings(), parse_week(WEEK)).values())))
    many.children = many.children * 6  # six children's summaries cannot fit: a shorter form, still the link
    long = compose.digest_sms(many, "https://dnevnik.school.example/d/" + "a" * 32 + "/", "СТОП")
    assert segments(long) <= 2 and "/d/" in long


def test_sms_gateway_failures_end_sent_or_failed_with_a_reason_and_none_twice(app, client):
    school = build_tiny_school()
    people = [family(school, f"Семья {i}", "st_ivanova" if i % 2 else "st_smirnov", dict(
        last_name=f"Родитель{i}", first_name="Анна", middle_name="Ивановна", phone=f"+7 900 111-11-{i:02d}"),
        ("sms",))[1] for i in range(1, 7)]
    db.session.execute(delete(NotifyMessage))  # their link messages: this test follows the digests alone
    assert jobs.queue_digests(settings(), parse_week(WEEK)).new == 6
    db.session.commit()
    conf = dataclasses.replace(notify_config(settings()), retry_seconds=0, max_attempts=4)
    with Gateway() as gateway:
        gateway.script = {"+79001111101": ["slow"], "+79001111102": ["500", "ok"], "+79001111103": ["garbage"],
                          "+79001111104": ["429"], "+79001111105": ["500"] * 9, "+79001111106": ["bad_number"]}
        transport = sms(gateway.url)
        waits: list[float] = []
        elapsed = [0.0]

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            elapsed[0] += seconds

        limits = {"sms": RateLimit(6, sleep=sleep, monotonic=lambda: elapsed[0])}
        total = PassReport()
        for _ in range(6):
            report = deliver_due(conf, {"sms": transport}, limits, settings().today())
            total.sent += report.sent
            total.reasons += report.reasons
    states = dict(db.session.execute(select(NotifyMessage.recipient, NotifyMessage.state)).all())
    assert states == {p.phone: "sent" for p in people[:4]} | {people[4].phone: "failed", people[5].phone: "failed"}
    failed = {m.recipient: m.last_error for m in db.session.scalars(select(NotifyMessage).where(
        NotifyMessage.state == "failed"))}
    assert "HTTP 500" in failed[people[4].phone] and "попыток: 4" in failed[people[4].phone]
    assert "HTTP 400" in failed[people[5].phone]
    assert len(gateway.delivered) == 4 == total.sent  # the slow one was retried with its client_ref: one SMS
    assert any("нет ответа" in r or "timed out" in r for r in total.reasons)
    assert any("непонятный ответ" in r for r in total.reasons) and any("HTTP 429" in r for r in total.reasons)
    assert set(gateway.tokens) == {"Bearer gw-secret"}
    assert all(w == pytest.approx(10.0) for w in waits) and len(waits) >= 5  # 6 a minute: 10 s apart
    assert db.session.scalar(select(func.count()).select_from(NotifyAttempt)) == len(gateway.requests)


def test_a_message_left_sending_by_a_crashed_worker_goes_once(app, client):
    school = build_tiny_school()
    _family, mother = family(school, "Ивановы", "st_ivanova", dict(
        last_name="Иванова", first_name="Ольга", middle_name="Николаевна", phone="+7 900 000-00-01"), ("sms",))
    message = db.session.scalars(select(NotifyMessage).where(NotifyMessage.kind == "link")).one()
    assert "Ссылка на электронный дневник (Ивановы): http://127.0.0.1:5000/d/" in message.body
    conf = notify_config(settings())
    with Gateway() as gateway:
        # The worker sent it, the gateway accepted, and the worker died before recording it.
        first = sms(gateway.url).send(Outgoing(ref_of(message), message.recipient, "", message.body))
        message.state, message.claimed_at = "sending", clock.now() - dt.timedelta(seconds=conf.lease_seconds + 1)
        db.session.commit()
        report = deliver_due(conf, {"sms": sms(gateway.url)}, {"sms": RateLimit(0)}, settings().today())
    assert report.recovered == 1 and report.sent == 1
    assert len(gateway.delivered) == 1 and db.session.get(NotifyMessage, message.id).provider_id == first
    assert mother.id == message.guardian_id


def test_a_rotated_link_is_sent_and_the_replaced_one_is_not(app, client):
    school = build_tiny_school()
    _family, mother = family(school, "Ивановы", "st_ivanova", dict(
        last_name="Иванова", first_name="Ольга", middle_name="Николаевна", email="olga@example.org"), ("email",))
    old = db.session.scalars(select(FamilyLink)).one()
    now = clock.now()
    new = rotate(old, settings().today(now), now)
    db.session.commit()
    with SmtpServer() as server:
        worker.run(app, once=True, transports={"email": smtp(server.port)}, sleep=lambda s: None)
    [mail] = server.inbox.to("olga@example.org")
    assert mail["Subject"] == "Новая ссылка на электронный дневник — Ивановы"
    assert new.token in mail.get_body(("plain",)).get_content() and old.token not in mail.as_string()
    cancelled = db.session.scalars(select(NotifyMessage).where(NotifyMessage.state == "cancelled")).one()
    assert cancelled.last_error == "ссылка уже заменена или отозвана"


def test_opt_out_by_the_email_link_and_by_sms_reply(app, client, monkeypatch):
    school = build_tiny_school()
    people = two_families(school)
    jobs.queue_digests(settings(), parse_week(WEEK))
    db.session.commit()
    mail = db.session.scalars(select(NotifyMessage).where(NotifyMessage.recipient == "olga@example.org",
                                                          NotifyMessage.kind == "digest")).one()
    path = re.search(r"http://127\.0\.0\.1:5000(/notify/unsubscribe/\S+)", mail.body)[1]
    assert client.get(path).status_code == 200  # asks; a link scanner's GET changes nothing
    assert db.session.scalars(select(GuardianChannel).where(GuardianChannel.opted_out_at.is_not(None))).all() == []
    assert client.post(path[:-3] + "xyz").status_code == 404
    assert "Вы отписались" in client.post(path).get_data(as_text=True)
    with SmtpServer() as server:
        worker.run(app, once=True, transports={"email": smtp(server.port)}, sleep=lambda s: None)
    assert server.inbox.to("olga@example.org") == [] and len(server.inbox.to("oleg@example.org")) == 2
    assert db.session.get(NotifyMessage, mail.id).state == "cancelled"
    assert client.post("/notify/sms-reply", json={"from": "89000000001", "text": "стоп"}).status_code == 401
    monkeypatch.setenv("TETRAD_SMS_TOKEN", "gw-secret")
    answer = client.post("/notify/sms-reply", json={"from": "8 900 000-00-01", "text": " Стоп "},
                         headers={"Authorization": "Bearer gw-secret"})
    assert answer.get_json() == {"stopped": 1}
    sms_row = db.session.scalars(select(GuardianChannel).where(GuardianChannel.guardian_id == people["mother"].id,
                                                               GuardianChannel.channel == "sms")).one()
    assert sms_row.opted_out_via == "sms_reply"


def test_call_list_names_families_who_neither_opened_nor_signed_for_two_weeks(app, client, runner, set_clock):
    school = build_tiny_school()
    people = two_families(school)
    db.session.add(db.session.get(Teacher, school["t_petrova"]))
    db.session.add(TeacherEmail(teacher_id=school["t_petrova"], email="petrova@school.example"))
    db.session.commit()
    assert jobs.call_list(settings(), school["c7"]) == []  # links issued today: not silent yet
    later = clock.now() + dt.timedelta(days=15)
    set_clock(later)
    rows = jobs.call_list(settings(), school["c7"])
    assert [(r.family, r.phone) for r in rows] == [("Ивановы", "+7 900 000-00-01"), ("Смирновы", "+7 900 000-00-02")]
    db.session.add(WeekView(family_id=people["ivanovy"].id, week="2026-W49", views=1, first_at=later, last_at=later))
    db.session.commit()
    assert [r.family for r in jobs.call_list(settings(), school["c7"])] == ["Смирновы"]
    assert "поставлено в очередь: 1" in runner.invoke(args=["notify", "calls"]).output
    mail = db.session.scalars(select(NotifyMessage).where(NotifyMessage.kind == "calls")).one()
    assert mail.recipient == "petrova@school.example"
    assert "Смирновы — Смирнов Олег Павлович, +7 900 000-00-02" in mail.body
    assert "Ивановы" not in mail.body


FIRST_NAMES = ["Ксения", "Тимофей", "Варвара", "Святослав", "Евдокия", "Ярополк"]


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_digest_mentions_a_child_outside_the_family(app, client, data):
    from tests.conftest import _empty_all_tables

    _empty_all_tables()
    school = build_tiny_school()
    kids = []
    for i, name in enumerate(FIRST_NAMES):
        kid = Student(file_no=f"P{i}", last_name=f"Ученик{i}", first_name=name, middle_name="", class_id=school["c7"],
                      birth_date=dt.date(2013, 1, 1 + i), enrolled_on=dt.date(2026, 9, 1))
        db.session.add(kid)
        db.session.flush()
        school.ids[f"st_p{i}"] = kid.id
        kids.append(kid)
    groups = data.draw(st.lists(st.sets(st.integers(0, len(kids) - 1), min_size=1, max_size=3), min_size=1,
                                max_size=4))
    for n, members in enumerate(groups):
        record, person = family(school, f"Семья{n}", f"st_p{min(members)}", dict(
            last_name=f"Опекун{n}", first_name="Зинаида", middle_name="Петровна", phone=f"+7 900 222-22-{n:02d}",
            email=f"g{n}@example.org"), ("sms", "email"))
        record.students = [kids[i] for i in sorted(members)]
        db.session.commit()
    # This week every child may get a mark of its own: a wrong child's mark in a digest would show.
    marks = data.draw(st.lists(st.sampled_from(["5", "4", "3", "2", None]), min_size=len(kids), max_size=len(kids)))
    machine = Machine(client, f"Кабинет {uuid.uuid4().hex[:6]}")
    friday = LESSON_DAY + dt.timedelta(days=4)
    lesson, fields = lesson_fields(school, day=friday)
    ops = [machine.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(friday, 9))]
    ops += [machine.op("mark", f"m-{i}", {"lesson": lesson, "student": kid.id, "value": value, "work_type": "oral"},
                       author=school["t_petrova"], at=ms_at(friday, 10)) for i, (kid, value) in
            enumerate(zip(kids, marks, strict=True)) if value]
    assert {r["status"] for r in machine.post(ops).get_json()["results"]} == {"applied"}
    week = data.draw(st.sampled_from(["2026-W45", "2026-W46", "2026-W47", "2026-W48"]))
    plan = jobs.plan_digests(settings(), parse_week(week))
    by_family = {f"Семья{n}": {kids[i].first_name for i in members} for n, members in enumerate(groups)}
    assert plan.drafts
    for draft in plan.drafts:
        family_name = db.session.get(Family, draft.family_id).name
        text = draft.subject + draft.body + (draft.html or "")
        strangers = set(FIRST_NAMES) - by_family[family_name]
        assert not [name for name in strangers if name in text], (family_name, text)
        if draft.channel == "email":
            for i, kid in enumerate(kids):
                if kid.first_name in by_family[family_name]:
                    own = f"Ученик{i} {kid.first_name}, 7А класс\n\nОтметки:"
                    shown = text.split(own, 1)[1].split("Пропуски", 1)[0] if own in text else None
                    expected = f"\n  20.11 Математика: {marks[i]} (У)\n" if marks[i] and week == "2026-W47" \
                        else " нет\n"
                    assert shown == expected, (kid.first_name, shown, expected)


def test_alerts_the_family_opted_into_are_queued_once(app, client, set_clock):
    school = build_tiny_school()
    people = two_families(school)  # the mother wants absence alerts by SMS and e-mail; the father none
    set_channel(people["mother"].id, "sms", dt.date(2026, 9, 2), absence=True, grade=True)
    set_channel(people["father"].id, "email", dt.date(2026, 9, 2), absence=False)
    db.session.commit()
    monday_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=settings().timezone)
    set_clock(monday_noon)
    assert alerts.queue_alerts(settings()) == 0  # the first pass starts the cursors at the present
    db.session.commit()
    machine = Machine(client, "Кабинет 12")
    day = monday_noon.date()
    lesson, fields = lesson_fields(school, day=day, homework_due=None, homework="")
    author = school["t_petrova"]
    both = {"lesson": lesson}
    answer = machine.post([
        machine.op("lesson", lesson, fields, author=author, at=ms_at(day, 9)),
        machine.op("attendance", attendance_key(lesson, school["st_ivanova"]),
                   {**both, "student": school["st_ivanova"], "status": "ill"}, author=author, at=ms_at(day, 9, 5)),
        machine.op("attendance", attendance_key(lesson, school["st_smirnov"]),
                   {**both, "student": school["st_smirnov"], "status": "absent_unexcused"}, author=author,
                   at=ms_at(day, 9, 5)),
        machine.op("period_grade", period_grade_key(school["st_ivanova"], school["s_math"], school["q2"]),
                   {"student": school["st_ivanova"], "subject": school["s_math"], "period": school["q2"],
                    "value": "5", "status": "graded"}, author=author, at=ms_at(day, 9, 6))]).get_json()
    assert {r["status"] for r in answer["results"]} == {"applied"}, answer
    assert alerts.queue_alerts(settings()) == 3
    db.session.commit()
    assert alerts.queue_alerts(settings()) == 0  # a second pass: nothing new
    queued = {(m.kind, m.channel): m.body for m in db.session.scalars(select(NotifyMessage).where(
        NotifyMessage.kind.like("alert%")))}
    assert set(queued) == {("alert_absence", "sms"), ("alert_absence", "email"), ("alert_grade", "sms")}
    assert queued["alert_absence", "sms"] == "Мария: отсутствует 23.11 на уроке «Математика» (болезнь)."
    assert "Павел" not in " ".join(queued.values())  # his father asked for no alerts
    assert queued["alert_grade", "sms"] == "Мария: выставлена отметка за 2 четверть по предмету «Математика»: 5."


def test_an_approved_correction_of_a_mark_the_family_saw_is_announced(app, client, set_clock):
    from app.syncing.review import approve
    from tests.staff_support import held_mark

    school = build_tiny_school()
    people = two_families(school)
    set_channel(people["mother"].id, "sms", dt.date(2026, 9, 2), correction=True)
    db.session.commit()
    assert alerts.queue_alerts(settings()) == 0
    db.session.commit()
    held = held_mark(Machine(client), school, value="4")
    now = clock.now()
    db.session.add(WeekView(family_id=people["ivanovy"].id, week="2026-W45", views=2, first_at=now, last_at=now))
    db.session.commit()
    set_clock(clock.now() + dt.timedelta(seconds=5))
    approve(held.id, "zavuch")
    assert alerts.queue_alerts(settings()) == 1
    db.session.commit()
    assert alerts.queue_alerts(settings()) == 0
    message = db.session.scalars(select(NotifyMessage).where(NotifyMessage.kind == "alert_correction")).one()
    assert message.body == "Мария: исправлена отметка за 05.11 по предмету «Математика»: теперь 4."
    assert message.recipient == "+7 900 000-00-01"


def test_staff_record_channel_consent_and_see_the_send_log_without_texts(app, client):
    from tests.staff_support import post, sign_in, world

    w = world(client)
    sign_in(client, "admin")
    page = f"/staff/notify/guardian/{w['guardian']}"
    answer = post(client, page, {"channel": "sms", "consent_on": "31.02.2026", "basis": "заявление № 7"})
    assert answer.status_code == 302
    assert "не понята" in client.get(page).get_data(as_text=True)
    assert db.session.scalars(select(GuardianChannel)).all() == []  # a bad date changes nothing
    post(client, page, {"channel": "sms", "consent_on": "20.11.2026", "basis": "заявление № 7", "digest": "1",
                        "absence": "1"})
    row = db.session.scalars(select(GuardianChannel)).one()
    assert (row.channel, row.consent_on, row.digest, row.alert_absence, row.alert_grade) == (
        "sms", dt.date(2026, 11, 20), True, True, False)
    assert jobs.queue_digests(settings(), parse_week(WEEK)).new == 1
    db.session.commit()
    log = client.get("/staff/notify/").get_data(as_text=True)
    assert "+7 900 000-00-01" in log and "/d/" not in log  # to whom, never the text with its link
    dashboard = client.get("/staff/dashboard/").get_data(as_text=True)
    assert "Сообщений семьям в очереди: <strong>1</strong>" in dashboard
    post(client, "/staff/notify/opt-out", {"guardian": w["guardian"], "channel": "sms"})
    assert db.session.scalars(select(GuardianChannel)).one().opted_out_via == "staff"


def test_cli_records_channel_consent_and_a_dry_run_queues_nothing(app, client, runner):
    school = build_tiny_school()
    journal(client, school)
    people = two_families(school)
    result = runner.invoke(args=["notify", "channel", "8 900 000-00-02", "sms", "--consent-on", "20.11.2026",
                                 "--basis", "заявление № 9", "--alerts", "absence"])
    assert "Смирнов Олег Павлович: согласие на канал sms от 20.11.2026 записано." in result.output, result.output
    assert runner.invoke(args=["notify", "channel", "nobody@example.org", "sms"]).exit_code == 2
    dry = runner.invoke(args=["notify", "digest", "--week", WEEK, "--dry-run"]).output
    assert "семей 2, сообщений 4 (SMS 2, писем 2); ничего не поставлено в очередь." in dry, dry
    assert "Самое длинное SMS: " in dry
    assert db.session.scalar(select(func.count()).select_from(NotifyMessage).where(NotifyMessage.kind == "digest")) == 0
    assert runner.invoke(args=["notify", "digest", "--week", "2026-W60"]).exit_code == 2
    off = runner.invoke(args=["notify", "channel", people["father"].id, "sms", "--off"]).output
    assert "канал sms отключён" in off
    status = runner.invoke(args=["notify", "status"]).output
    assert status.startswith("В очереди 3, отправляется 0, отправлено 0")  # the three link messages
    assert "поставлено в очередь" not in runner.invoke(args=["notify", "teacher-email", "T9", "x@y"]).output
    assert "petrova@school.example" in runner.invoke(args=["notify", "teacher-email", "T1",
                                                           "petrova@school.example"]).output


# The test server asks for a login over plain SMTP on 127.0.0.1; aiosmtpd rightly warns about that.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_comes_from_the_environment_and_a_wrong_one_is_retried_not_lost(app, client, monkeypatch):
    school = build_tiny_school()
    _family, mother = family(school, "Ивановы", "st_ivanova", dict(
        last_name="Иванова", first_name="Ольга", middle_name="Николаевна", email="olga@example.org"), ("email",))
    monkeypatch.setenv("TETRAD_SMTP_USER", "school")
    monkeypatch.setenv("TETRAD_SMTP_PASSWORD", "wrong")
    with SmtpServer(login=("school", "s3cret")) as server:
        conf = notify_config(settings())
        assert (conf.email.username, conf.email.password) == ("school", "wrong")
        mail = dataclasses.replace(conf.email, host="127.0.0.1", port=server.port)
        report = deliver_due(conf, {"email": SmtpTransport(mail)}, {"email": RateLimit(0)}, settings().today())
        assert report.retried == 1 and "SMTP 535" in report.reasons[0] and server.inbox.messages == []
        monkeypatch.setenv("TETRAD_SMTP_PASSWORD", "s3cret")
        conf = notify_config(settings())
        message = db.session.scalars(select(NotifyMessage)).one()
        message.next_try_at = clock.now()
        db.session.commit()
        mail = dataclasses.replace(conf.email, host="127.0.0.1", port=server.port)
        report = deliver_due(conf, {"email": SmtpTransport(mail)}, {"email": RateLimit(0)}, settings().today())
    assert report.sent == 1 and set(server.logins) == {"school"}  # smtplib tried PLAIN and LOGIN, then PLAIN
    assert [rcpt for rcpt, _m in server.inbox.messages] == [["olga@example.org"]]
    assert mother.id == message.guardian_id


def test_texts_are_erased_after_the_configured_days_and_the_log_stays(app, client, set_clock):
    school = build_tiny_school()
    family(school, "Ивановы", "st_ivanova", dict(last_name="Иванова", first_name="Ольга", middle_name="Николаевна",
                                                 email="olga@example.org"), ("email",))
    with SmtpServer() as server:
        worker.run(app, once=True, transports={"email": smtp(server.port)}, sleep=lambda s: None)
    conf = notify_config(settings())
    assert purge(conf) == 0
    set_clock(clock.now() + dt.timedelta(days=conf.body_days, minutes=1))
    assert purge(conf) == 1
    db.session.commit()
    message = db.session.scalars(select(NotifyMessage)).one()
    assert (message.body, message.html, message.state, message.recipient) == (None, None, "sent", "olga@example.org")
    assert message.sent_at is not None and message.subject == ""  # it named the children too
