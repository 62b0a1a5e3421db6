"""The demo school: a realistic school and journal, identical for the same seed, never built twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, inspect, select

from app.base.extensions import db
from app.base.models import (
    AcademicYear,
    Assignment,
    Consent,
    Family,
    Group,
    Guardian,
    SchoolClass,
    Student,
    Teacher,
    TimetableEntry,
    family_student,
    group_member,
)
from app.base.settings import load_settings
from app.demo import curriculum, names, topics
from app.demo.journal import DEMO_TODAY, demo_day, demo_devices
from app.demo.school import build_school
from sync import hlc, ids

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"
SEED = 2026
PERIOD_START, PERIOD_LAST = dt.date(2026, 11, 5), dt.date(2026, 11, 21)


def fingerprint(seed: int) -> str:
    """A hash of every planned record, link and journal op for a seed."""
    settings = load_settings(CONFIG)
    school = build_school(settings, seed, "year")
    rows = [
        [type(r).__tablename__, *(str(getattr(r, c.key)) for c in inspect(type(r)).column_attrs)]
        for r in school.records()
    ]
    rows += [["group_member", g.id, s.id] for g in school.groups for s in g.students]
    rows += [
        ["family", f.id, *(g.id for g in f.guardians), *(s.id for s in f.students)] for f in school.families
    ]
    ops = [[d.name, d.class_ids, d.ops] for d in demo_devices(school, settings)]
    return hashlib.sha256(json.dumps([rows, ops], ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module")
def settings():
    """The shipped config.yaml."""
    return load_settings(CONFIG)


@pytest.fixture(scope="module")
def school(settings):
    """The demo school planned for the default seed (not written anywhere)."""
    return build_school(settings, SEED, "year")


@pytest.fixture(scope="module")
def devices(school, settings):
    """The demo journal's classroom machines with their ops."""
    return demo_devices(school, settings)


@pytest.fixture(scope="module")
def ops(devices):
    """Every op of every machine, with the machine it came from."""
    return [(device, op) for device in devices for op in device.ops]


def _classes(school):
    return {c.id: c for c in school.classes}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- determinism -----------------------------------------------------------------------------------


def test_same_seed_builds_identical_school_and_journal_in_fresh_processes():
    outputs = []
    for hash_seed, seed in (("1", SEED), ("2", SEED), ("1", 7)):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        script = f"from tests.test_demo import fingerprint; print(fingerprint({seed}))"
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        outputs.append(result.stdout.strip())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


# -- classes and students --------------------------------------------------------------------------


def test_every_grade_has_two_classes_of_22_to_28_students(school):
    names_by_grade = defaultdict(list)
    for cls in school.classes:
        names_by_grade[cls.grade].append(cls.name)
    assert {g: sorted(n) for g, n in names_by_grade.items()} == {g: [f"{g}А", f"{g}Б"] for g in range(1, 12)}
    sizes = Counter(s.class_id for s in school.students if s.left_on is None)
    assert all(22 <= sizes[c.id] <= 28 for c in school.classes), sizes
    assert len(set(sizes.values())) > 3


def test_names_agree_with_gender(school):
    assert names.surname("Иванов", female=True) == "Иванова"
    assert names.surname("Островский", female=True) == "Островская"
    assert names.surname("Толстой", female=True) == "Толстая"
    assert names.surname("Ткаченко", female=True) == "Ткаченко"
    assert names.patronymic("Пётр", female=True) == "Петровна"
    assert names.patronymic("Сергей", female=False) == "Сергеевич"
    assert names.patronymic("Игорь", female=False) == "Игоревич"
    assert names.patronymic("Илья", female=True) == "Ильинична"
    assert names.patronymic("Юрий", female=True) == "Юрьевна"
    for student in school.students:
        female = student.middle_name.endswith("на")
        assert student.middle_name in {names.patronymic(father, female) for father in names.MEN}
        assert student.first_name in (names.GIRLS if female else names.BOYS)
        assert student.last_name in {names.surname(s, female) for s in names.SURNAMES}


def test_birth_dates_fit_the_grade(school):
    classes = _classes(school)
    for student in school.students:
        grade = classes[student.class_id].grade
        age = (dt.date(2026, 9, 1) - student.birth_date).days / 365.25
        assert grade + 5.5 <= age <= grade + 7.5, (student.full_name, grade, student.birth_date)


def test_file_numbers_are_unique_and_a_few_students_joined_late_or_left(school):
    assert len({s.file_no for s in school.students}) == len(school.students)
    late = [s for s in school.students if s.enrolled_on > dt.date(2026, 9, 1)]
    left = [s for s in school.students if s.left_on is not None]
    assert 2 <= len(late) <= 6
    assert any(PERIOD_START <= s.enrolled_on <= PERIOD_LAST for s in late)
    assert 1 <= len(left) <= 2 and all(s.left_on > s.enrolled_on for s in left)


# -- families --------------------------------------------------------------------------------------


def test_siblings_share_a_family_across_classes(school):
    with_siblings = [f for f in school.families if len(f.students) >= 2]
    assert any(len(f.students) == 3 for f in with_siblings)
    across = [f for f in with_siblings if len({s.class_id for s in f.students}) == len(f.students)]
    assert len(across) > 30
    for family in with_siblings:
        assert any(
            all(
                s.middle_name == names.patronymic(father, s.middle_name.endswith("на"))
                for s in family.students
            )
            for father in names.MEN
        ), [s.full_name for s in family.students]


def test_children_of_divorced_parents_belong_to_two_families(school):
    families_of = defaultdict(list)
    for family in school.families:
        for student in family.students:
            families_of[student.id].append(family)
    twice = [fs for fs in families_of.values() if len(fs) == 2]
    assert twice and all(len(fs) <= 2 for fs in families_of.values())
    for first, second in twice:
        assert {g.relation for g in first.guardians + second.guardians} == {"мать", "отец"}


def test_guardians_and_consent_vary_between_families(school):
    guardian_counts = Counter(len(f.guardians) for f in school.families)
    assert set(guardian_counts) == {1, 2} and guardian_counts[2] > guardian_counts[1]
    assert {g.relation for g in school.guardians} == {"мать", "отец", "опекун"}
    phones = [g.phone for g in school.guardians]
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"\+7 9\d\d \d{3}-\d\d-\d\d", p) for p in phones)
    consents = defaultdict(list)
    for consent in school.consents:
        consents[consent.guardian_id].append(consent)
    per_family = {f.id: [c for g in f.guardians for c in consents[g.id]] for f in school.families}
    paper = [f for f in school.families if f.channel == "paper"]
    assert paper and all(c.channel == "paper" for f in paper for c in per_family[f.id])
    assert all(per_family[f.id] for f in paper)
    assert sum(1 for given in per_family.values() if not given) >= 10
    assert sum(1 for given in per_family.values() if len(given) == 2) >= 10
    linked = [f for f in school.families if f.channel == "link" and per_family[f.id]]
    assert len(linked) > len(school.families) / 2
    assert all(c.state == "given" and c.on <= DEMO_TODAY for c in school.consents)


# -- staff, curriculum and timetable ---------------------------------------------------------------


def test_teachers_have_codes_and_loads_from_the_curriculum(school):
    assert 35 <= len(school.teachers) <= 40
    assert all(re.fullmatch(r"\d{6}", t.code) for t in school.teachers)
    assert len({t.code for t in school.teachers}) == len(school.teachers)
    subjects = {s.id: s.name for s in school.subjects}
    assert {"Русский язык", "Вероятность и статистика", "ОБЗР"} <= set(subjects.values()) | {
        s.short for s in school.subjects
    }
    for cls in school.classes:
        hours = Counter()
        for a in school.assignments:
            if a.class_id == cls.id:
                hours[subjects[a.subject_id]] = a.hours_per_week
        assert hours == curriculum.HOURS[cls.grade]


def test_english_is_split_into_two_groups_from_grade_2(school):
    english = next(s.id for s in school.subjects if s.name == "Английский язык")
    for cls in school.classes:
        groups = [g for g in school.groups if g.class_id == cls.id]
        if cls.grade == 1:
            assert groups == []
            continue
        assert len(groups) == 2 and all(g.subject_id == english for g in groups)
        members = [s.id for g in groups for s in g.students]
        assert sorted(members) == sorted(s.id for s in school.students if s.class_id == cls.id)
        teachers = {a.teacher_id for a in school.assignments if a.class_id == cls.id and a.group_id}
        assert len(teachers) == 2


def test_every_class_has_its_own_homeroom_teacher(school):
    homerooms = [c.homeroom_teacher_id for c in school.classes]
    assert None not in homerooms and len(set(homerooms)) == len(homerooms)
    for cls in school.classes:
        hours = Counter()
        for a in school.assignments:
            if a.class_id == cls.id:
                hours[a.teacher_id] += a.hours_per_week
        assert cls.homeroom_teacher_id in hours
        if cls.grade <= 4:
            assert hours[cls.homeroom_teacher_id] > sum(hours.values()) / 2


def test_timetable_matches_the_hours_and_never_double_books(school, settings):
    classes = _classes(school)
    seen_teachers = Counter((e.teacher_id, e.weekday, e.slot) for e in school.timetable)
    assert max(seen_teachers.values()) == 1
    cells = defaultdict(list)
    for entry in school.timetable:
        cells[(entry.class_id, entry.weekday, entry.slot)].append(entry)
        grade = classes[entry.class_id].grade
        assert 1 <= entry.weekday <= (5 if grade <= 4 else settings.school_days)
        assert 1 <= entry.slot <= len(settings.bells)
        assert entry.valid_from == settings.year_start and entry.valid_to is None
    for entries in cells.values():
        if len(entries) > 1:
            assert len({e.subject_id for e in entries}) == 1
            assert len({e.group_id for e in entries}) == len(entries) and None not in {
                e.group_id for e in entries
            }
    planned = Counter(
        (a.class_id, a.group_id, a.subject_id)
        for a in school.assignments
        for _ in range(int(a.hours_per_week))
    )
    assert Counter((e.class_id, e.group_id, e.subject_id) for e in school.timetable) == planned
    days = defaultdict(set)
    for class_id, weekday, slot in cells:
        days[(class_id, weekday)].add(slot)
    assert all(slots == set(range(1, len(slots) + 1)) for slots in days.values())
    assert all(len(slots) <= 4 for (class_id, _), slots in days.items() if classes[class_id].grade == 1)


def test_a_subject_comes_once_a_day_when_its_hours_allow(school, settings):
    classes, subjects = _classes(school), {s.id: s.name for s in school.subjects}
    per_day = Counter((e.class_id, e.weekday, e.subject_id) for e in school.timetable if e.group_id is None)
    for (class_id, _day, subject_id), count in per_day.items():
        grade = classes[class_id].grade
        if curriculum.HOURS[grade][subjects[subject_id]] <= (5 if grade <= 4 else settings.school_days):
            assert count == 1, (classes[class_id].name, subjects[subject_id])


@pytest.mark.parametrize("seed", [1, 2, 3, 99])
def test_other_seeds_build_a_valid_timetable_too(settings, seed):
    school = build_school(settings, seed, "year")
    assert max(Counter((e.teacher_id, e.weekday, e.slot) for e in school.timetable).values()) == 1
    assert len(school.timetable) == sum(int(a.hours_per_week) for a in school.assignments)


def test_every_subject_has_topics_in_every_grade_it_is_taught():
    for grade, hours in curriculum.HOURS.items():
        for subject in hours:
            assert topics.topics(subject, grade) != ("Повторение изученного",), (subject, grade)


# -- journal ops -----------------------------------------------------------------------------------


def test_one_machine_per_grade_with_contiguous_seqs_and_growing_hlcs(devices, school):
    assert [d.name for d in devices] == [f"Ноутбук {g}А, {g}Б" for g in range(1, 12)]
    classes = _classes(school)
    for device in devices:
        assert len(device.class_ids) == 2 and len({classes[c].grade for c in device.class_ids}) == 1
        assert [op["seq"] for op in device.ops] == list(range(1, len(device.ops) + 1))
        clocks = [op["hlc"] for op in device.ops]
        assert all(hlc.is_valid(c) for c in clocks) and clocks == sorted(set(clocks))


def test_ops_have_the_protocol_shape(ops):
    assert len({op["op"] for _, op in ops}) == len(ops)
    keys = {"op", "seq", "hlc", "author", "entity", "id", "action", "fields", "base"}
    required = {
        "lesson": {
            "date",
            "slot",
            "class",
            "group",
            "subject",
            "teacher",
            "substitute",
            "topic",
            "homework",
            "homework_due",
            "cancelled",
        },
        "attendance": {"lesson", "student", "status"},
        "mark": {"lesson", "student", "value", "work_type", "comment"},
        "remark": {"student", "date", "kind", "subject", "text"},
        "test_plan": {"class", "group", "subject", "date", "work_type", "title"},
    }
    for _, op in ops:
        assert set(op) == keys and op["action"] == "upsert" and op["base"] is None
        assert set(op["fields"]) == required[op["entity"]]
        assert all(v is None or isinstance(v, str | int | bool) for v in op["fields"].values())
    assert set(Counter(op["entity"] for _, op in ops)) == set(required)


def test_derived_ids_match_their_keys(ops):
    for _, op in ops:
        f = op["fields"]
        if op["entity"] == "lesson":
            assert op["id"] == ids.lesson_id(f["class"], f["group"], f["date"], f["slot"])
        elif op["entity"] == "attendance":
            assert op["id"] == ids.attendance_id(f["lesson"], f["student"])


def test_ops_reference_only_known_records_sent_earlier_on_the_same_machine(ops, school):
    students = {s.id: s for s in school.students}
    teachers, subjects = {t.id for t in school.teachers}, {s.id for s in school.subjects}
    members = {g.id: {s.id for s in g.students} for g in school.groups}
    lessons = {}
    for device, op in ops:
        f = op["fields"]
        assert op["author"] in teachers
        if "class" in f:
            assert f["class"] in device.class_ids and f["subject"] in subjects
            assert f["group"] is None or f["group"] in members
        if op["entity"] == "lesson":
            assert f["teacher"] == op["author"]
            lessons[op["id"]] = (device, op["seq"], f)
        if op["entity"] in ("attendance", "mark"):
            lesson_device, lesson_seq, lesson = lessons[f["lesson"]]
            assert lesson_device is device and lesson_seq < op["seq"] and op["author"] == lesson["teacher"]
            student = students[f["student"]]
            assert student.class_id == lesson["class"]
            assert student.active_on(dt.date.fromisoformat(lesson["date"]))
            assert lesson["group"] is None or student.id in members[lesson["group"]]
        if op["entity"] == "remark":
            assert students[f["student"]].class_id in device.class_ids and f["subject"] in subjects
    assert {op["fields"]["status"] for _, op in ops if op["entity"] == "attendance"} == {
        "ill",
        "absent_excused",
        "absent_unexcused",
        "late",
    }


def test_marks_use_configured_values_and_none_in_grade_1(ops, school, settings):
    classes = _classes(school)
    lessons = {op["id"]: op["fields"] for _, op in ops if op["entity"] == "lesson"}
    marks = [op["fields"] for _, op in ops if op["entity"] == "mark"]
    codes = {w.code for w in settings.work_types}
    assert marks and all(m["value"] in settings.mark_values and m["work_type"] in codes for m in marks)
    graded = {classes[lessons[m["lesson"]]["class"]].grade for m in marks}
    assert graded == set(range(2, 12)) and not graded & settings.no_marks_grades
    per_lesson = Counter(m["lesson"] for m in marks if m["work_type"] != "test")
    share = sum(per_lesson.values()) / sum(1 for f in lessons.values() if classes[f["class"]].grade > 1)
    assert 3 < share < 9
    tests = Counter(m["lesson"] for m in marks if m["work_type"] == "test")
    assert tests and max(tests.values()) >= 20


def test_lessons_follow_the_timetable_for_the_period_so_far(ops, school, settings):
    lessons = [op["fields"] for _, op in ops if op["entity"] == "lesson"]
    expected = Counter()
    day = PERIOD_START
    while day <= PERIOD_LAST:
        for entry in school.timetable:
            if entry.weekday == day.isoweekday():
                expected[(entry.class_id, entry.group_id, entry.subject_id, day.isoformat(), entry.slot)] += 1
        day += dt.timedelta(days=1)
    assert Counter((f["class"], f["group"], f["subject"], f["date"], f["slot"]) for f in lessons) == expected
    assert all(f["topic"] and f["cancelled"] is False for f in lessons)
    classes = _classes(school)
    assert all(
        f["homework"] == "" and f["homework_due"] is None for f in lessons if classes[f["class"]].grade == 1
    )
    assert all(f["homework_due"] > f["date"] for f in lessons if f["homework_due"])


def test_exactly_one_lesson_is_taught_by_a_free_substitute(ops, school):
    substituted = [op["fields"] for _, op in ops if op["entity"] == "lesson" and op["fields"]["substitute"]]
    assert len(substituted) == 1
    lesson = substituted[0]
    weekday = dt.date.fromisoformat(lesson["date"]).isoweekday()
    scheduled = [
        e
        for e in school.timetable
        if e.class_id == lesson["class"] and e.weekday == weekday and e.slot == lesson["slot"]
    ]
    assert lesson["teacher"] not in {e.teacher_id for e in scheduled}
    assert not any(
        e.teacher_id == lesson["teacher"] and e.weekday == weekday and e.slot == lesson["slot"]
        for e in school.timetable
    )


def test_entries_are_mostly_on_time_some_late_none_needing_approval(ops, settings):
    tz = settings.timezone
    lessons = {op["id"]: op["fields"] for _, op in ops if op["entity"] == "lesson"}
    today_ms = int(dt.datetime.combine(DEMO_TODAY, dt.time(), tzinfo=tz).timestamp() * 1000)
    delays = []
    for _, op in ops:
        ms = hlc.parse(op["hlc"])[0]
        assert ms < today_ms
        typed = dt.datetime.fromtimestamp(ms / 1000, tz).date()
        if op["entity"] in ("lesson", "attendance"):
            day = (
                op["fields"]["date"] if op["entity"] == "lesson" else lessons[op["fields"]["lesson"]]["date"]
            )
            delays.append((typed - dt.date.fromisoformat(day)).days)
        if op["entity"] == "mark":
            late = (typed - dt.date.fromisoformat(lessons[op["fields"]["lesson"]]["date"])).days
            assert 0 <= late < settings.approval_after_days
    on_the_day = sum(1 for d in delays if d == 0) / len(delays)
    assert 0.9 < on_the_day < 1.0


def test_test_plan_lists_past_and_upcoming_tests(ops, school):
    plans = [op["fields"] for _, op in ops if op["entity"] == "test_plan"]
    assert any(p["date"] > PERIOD_LAST.isoformat() for p in plans)
    assert all(p["work_type"] == "test" and p["title"].startswith("Контрольная работа") for p in plans)
    lessons = [op["fields"] for _, op in ops if op["entity"] == "lesson"]
    for plan in (p for p in plans if p["date"] <= PERIOD_LAST.isoformat()):
        assert any(
            f["class"] == plan["class"]
            and f["subject"] == plan["subject"]
            and f["date"] == plan["date"]
            and f["topic"].startswith("Контрольная работа")
            for f in lessons
        )
    assert any(op["entity"] == "remark" for _, op in ops)


# -- the command -----------------------------------------------------------------------------------


def test_demo_command_writes_the_planned_school(runner, settings):
    result = runner.invoke(args=["demo", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "Готово" in result.output and "ученики" in result.output
    year = db.session.scalars(select(AcademicYear)).one()
    plan = build_school(settings, 5, year.id)
    assert _count(Student) == len(plan.students) and _count(Teacher) == len(plan.teachers)
    assert _count(SchoolClass) == 22 and _count(Group) == 40
    assert _count(TimetableEntry) == len(plan.timetable) and _count(Assignment) == len(plan.assignments)
    assert _count(Guardian) == len(plan.guardians) and _count(Consent) == len(plan.consents)
    assert _count(group_member) == sum(len(g.students) for g in plan.groups)
    assert _count(family_student) == sum(len(f.students) for f in plan.families)
    stored = {s.id: (s.full_name, s.birth_date, s.class_id) for s in db.session.scalars(select(Student))}
    assert stored == {s.id: (s.full_name, s.birth_date, s.class_id) for s in plan.students}
    known = (
        set(stored) | set(db.session.scalars(select(Teacher.id))) | set(db.session.scalars(select(Group.id)))
    )
    for device in demo_devices(plan, settings):
        for op in device.ops:
            assert op["author"] in known
            assert op["fields"].get("student", op["author"]) in known


def test_demo_command_fills_the_journal_through_the_sync_path(runner, settings):
    from app.base.models import Device, Lesson, Mark, OpLog

    assert runner.invoke(args=["demo", "--seed", "5"]).exit_code == 0
    year = db.session.scalars(select(AcademicYear)).one()
    machines = demo_devices(build_school(settings, 5, year.id), settings)
    sent = sum(len(m.ops) for m in machines)
    assert _count(OpLog) == sent
    assert set(db.session.scalars(select(OpLog.status))) == {"applied"}
    assert sorted(db.session.scalars(select(Device.name))) == sorted(m.name for m in machines)
    assert all(d.acked_seq > 0 for d in db.session.scalars(select(Device)))
    assert _count(Lesson) == sum(1 for m in machines for op in m.ops if op["entity"] == "lesson")
    assert _count(Mark) > 1000


def test_if_empty_does_not_duplicate(runner):
    assert runner.invoke(args=["demo", "--seed", "3"]).exit_code == 0
    counts = [_count(m) for m in (Student, Teacher, Family, Guardian, TimetableEntry)]
    skipped = runner.invoke(args=["demo", "--if-empty"])
    assert skipped.exit_code == 0 and "не создаётся" in skipped.output
    refused = runner.invoke(args=["demo", "--seed", "4"])
    assert refused.exit_code != 0 and "уже есть данные" in refused.output
    db.session.rollback()
    assert [_count(m) for m in (Student, Teacher, Family, Guardian, TimetableEntry)] == counts


def test_the_demo_journal_reaches_the_day_it_is_built_and_an_older_one_says_how_to_rebuild(runner, set_clock):
    from app.base.models import Lesson

    moscow = ZoneInfo("Europe/Moscow")
    set_clock(dt.datetime(2026, 12, 2, 9, 0, tzinfo=moscow))
    assert runner.invoke(args=["demo", "--seed", "5"]).exit_code == 0
    assert db.session.scalar(select(func.max(Lesson.date))) == dt.date(2026, 12, 1)
    assert runner.invoke(args=["demo", "--if-empty"]).output.count("make demo-again") == 0  # up to date
    set_clock(dt.datetime(2026, 12, 9, 9, 0, tzinfo=moscow))
    skipped = runner.invoke(args=["demo", "--if-empty"])
    assert "заполнен по 01.12.2026, а должен — по 08.12.2026" in skipped.output and "make demo-again" in skipped.output


def test_outside_the_academic_year_the_demo_is_its_last_period_complete(settings):
    assert demo_day(settings, dt.date(2026, 11, 22)) == (dt.date(2026, 11, 22), True)
    assert demo_day(settings, dt.date(2027, 6, 1)) == (dt.date(2027, 6, 1), True)  # the day after the year's end
    assert demo_day(settings, dt.date(2027, 7, 15)) == (dt.date(2027, 6, 1), False)  # summer
    assert demo_day(settings, dt.date(2026, 8, 20)) == (dt.date(2027, 6, 1), False)  # before the year
    assert demo_day(settings, dt.date(2029, 2, 1)) == (dt.date(2027, 6, 1), False)  # a later year
    lessons = [op for d in demo_devices(build_school(settings, 5, "year"), settings, dt.date(2027, 6, 1))
               for op in d.ops if op["entity"] == "lesson"]
    assert max(op["fields"]["date"] for op in lessons) == "2027-05-31"
