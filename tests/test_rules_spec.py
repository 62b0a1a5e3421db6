"""The rules and the applier as a specification: pure functions over an in-memory school, no database, no HTTP.

Each outcome of the protocol (applied, duplicate, superseded, conflict, held, queued) and each rejection code
the rules give is named in a test of a few lines. The same code runs on the hub and on classroom machines.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Collection
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sync import hlc
from sync.apply import Applied, BatchApplier, Known
from sync.ids import NAMESPACE, attendance_id, derived, lesson_id, period_grade_id
from sync.merge import Record
from sync.rules import Calendar, ReferenceSnapshot, StudentInfo, local_day
from sync.schema import Vocabulary, parse_op

MOSCOW = ZoneInfo("Europe/Moscow")
DAY = dt.date(2026, 11, 16)  # the lesson day: a Monday of the second quarter
NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=MOSCOW)  # two days later: not yet a late correction
NOW_MS = int(NOW.timestamp() * 1000)


def ms(day: dt.date, hour: int = 10) -> int:
    """Unix ms of an hour of a school day, Moscow time."""
    return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW).timestamp() * 1000)


SCHOOL = ReferenceSnapshot(
    teachers=frozenset({"t-math", "t-math2", "t-rus", "t-out", "t-first"}),
    subjects=frozenset({"math", "rus"}),
    classes={"c7": 7, "c1": 1},
    groups={"g7a": "c7"},
    students={
        "s7": StudentInfo("c7", 7, dt.date(2026, 9, 1), None),
        "s7-left": StudentInfo("c7", 7, dt.date(2026, 9, 1), dt.date(2026, 11, 10)),
        "s1": StudentInfo("c1", 1, dt.date(2026, 9, 1), None),
    },
    periods={"q2": dt.date(2026, 12, 29), "q1": dt.date(2026, 10, 24)},
    assignments=frozenset({("t-math", "c7", "math"), ("t-math2", "c7", "math"), ("t-rus", "c7", "rus"),
                           ("t-first", "c1", "math")}),
    teaching=frozenset({("t-math", "c7"), ("t-math2", "c7"), ("t-rus", "c7"), ("t-first", "c1")}),
    homerooms=frozenset({("t-math", "c7"), ("t-first", "c1")}),
)
CALENDAR = Calendar(year_start=dt.date(2026, 9, 1), year_end=dt.date(2027, 5, 31), timezone=MOSCOW,
                    no_marks_grades=frozenset({1}), approval_after_days=7, max_skew_ms=300_000, plan_ahead_days=14)
VOCABULARY = Vocabulary(mark_values=("5", "4", "3", "2", "1"), work_types=("oral", "test"))
LESSON = lesson_id("c7", None, DAY.isoformat(), 2)
FIRST_GRADE_LESSON = lesson_id("c1", None, DAY.isoformat(), 1)


class Machine:
    """One device's ops, numbered as a classroom machine numbers them, applied against an in-memory hub."""

    _ids = itertools.count(1)

    def __init__(self, hub: Hub, device: str = "dev-a") -> None:
        self.hub, self.device, self.seq = hub, device, 0

    def op(self, entity: str, record_id: str, fields: dict[str, Any], author: str = "t-math",
           at: int = ms(DAY), action: str = "upsert", base: int | None = None,
           seq: int | None = None) -> dict[str, Any]:
        """A raw op as it travels on the wire (the next seq unless one is given)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {"op": f"op-{next(self._ids)}", "seq": seq, "hlc": hlc.make(at), "author": author, "entity": entity,
                "id": record_id, "action": action, "fields": fields, "base": base}

    def send(self, *raws: dict[str, Any]) -> list[dict[str, Any]]:
        """Apply a batch on the hub; return the results."""
        return self.hub.apply(self.device, list(raws)).results


class Hub:
    """The hub's state as the applier sees it: records, known op ids, seqs, queued ops, acked seq per device."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Record] = {}
        self.known: dict[str, Known] = {}
        self.acked: dict[str, int] = {}
        self.queued: dict[str, list[Any]] = {}
        self.now_ms = NOW_MS
        self.reference = SCHOOL

    def load(self, entity: str, ids: Collection[str]) -> dict[str, Record]:
        """The loader the applier reads records through."""
        return {i: self.records[(entity, i)] for i in ids if (entity, i) in self.records}

    def apply(self, device: str, raws: list[dict[str, Any]]) -> Applied:
        """Run one batch and keep what a hub would persist."""
        applier = BatchApplier(device=device, acked_seq=self.acked.get(device, 0), known=dict(self.known),
                               seq_owners={}, queued=self.queued.pop(device, []), load=self.load,
                               reference=self.reference, calendar=CALENDAR, vocabulary=VOCABULARY, now_ms=self.now_ms)
        applied = applier.run([parse_op(raw) for raw in raws])
        self.records.update(applier.records)
        for entry in applied.log:
            if entry.status == "queued":
                self.queued.setdefault(device, []).append(entry.op)
            else:
                self.known[entry.op.op] = Known(device, entry.op.seq, {k: v for k, v in entry.result().items()
                                                                       if k != "op"})
        self.acked[device] = applied.acked_seq
        return applied


@pytest.fixture
def hub() -> Hub:
    """An empty in-memory hub."""
    return Hub()


@pytest.fixture
def machine(hub: Hub) -> Machine:
    """The maths teacher's classroom machine (7А)."""
    return Machine(hub)


def lesson_fields(**overrides: Any) -> dict[str, Any]:
    """A complete 7А maths lesson on DAY, slot 2."""
    fields = {"date": DAY.isoformat(), "slot": 2, "class": "c7", "group": None, "subject": "math",
              "teacher": "t-math", "substitute": False, "topic": "Дроби", "cancelled": False}
    return {**fields, **overrides}


def mark_fields(student: str = "s7", lesson: str = LESSON, value: str = "5") -> dict[str, Any]:
    """A mark for a student in a lesson."""
    return {"lesson": lesson, "student": student, "value": value, "work_type": "oral"}


def status(result: dict[str, Any]) -> tuple[str, str | None]:
    """An op's outcome as (status, code)."""
    return result["status"], result.get("code")


# Outcomes


def test_a_new_lesson_is_applied(machine: Machine) -> None:
    assert status(machine.send(machine.op("lesson", LESSON, lesson_fields()))[0]) == ("applied", None)


def test_the_same_op_twice_applies_once_and_repeats_its_first_outcome(machine: Machine) -> None:
    op = machine.op("lesson", LESSON, lesson_fields())
    machine.send(op)
    again = machine.send(op)[0]
    assert again["status"] == "duplicate" and again["first"] == {"status": "applied"}


def test_an_op_twice_in_one_batch_is_a_duplicate_of_itself(machine: Machine) -> None:
    op = machine.op("lesson", LESSON, lesson_fields())
    first, second = machine.send(op, op)
    assert first["status"] == "applied" and second == {"op": op["op"], "status": "duplicate",
                                                        "first": {"status": "applied"}}


def test_an_older_write_of_every_field_is_superseded(machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields(topic="Новая"), at=ms(DAY, 12)))
    older = machine.op("lesson", LESSON, {"topic": "Старая"}, at=ms(DAY, 9))
    assert status(machine.send(older)[0]) == ("superseded", None)


def test_two_authors_writing_blind_is_a_conflict_recorded_for_staff(hub: Hub, machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    other = Machine(hub, "dev-b")
    blind = other.op("lesson", LESSON, {"topic": "Уравнения"}, author="t-math2", at=ms(DAY, 11), base=None)
    assert status(other.send(blind)[0]) == ("conflict", None)


def test_an_op_after_a_gap_is_queued_until_the_gap_fills(machine: Machine) -> None:
    first = machine.op("lesson", LESSON, lesson_fields())
    second = machine.op("mark", "m-1", mark_fields())
    assert status(machine.send(second)[0]) == ("queued", None)
    results = machine.send(first)
    assert status(results[0]) == ("applied", None) and machine.hub.acked["dev-a"] == 2


def test_a_mark_entered_more_than_a_week_after_the_lesson_is_held(machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    machine.hub.now_ms = ms(DAY + dt.timedelta(days=9))
    late = machine.op("mark", "m-1", mark_fields(), at=ms(DAY + dt.timedelta(days=8)))
    assert status(machine.send(late)[0]) == ("held", "late_correction")


def test_a_late_file_of_marks_made_on_time_is_not_held(machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    machine.hub.now_ms = ms(DAY + dt.timedelta(days=30))  # a USB file imported a month later
    on_time = machine.op("mark", "m-1", mark_fields(), at=ms(DAY, 14))
    assert status(machine.send(on_time)[0]) == ("applied", None)


def test_a_mark_within_the_week_is_applied(machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    assert status(machine.send(machine.op("mark", "m-1", mark_fields(), at=ms(DAY, 14)))[0]) == ("applied", None)


def test_a_clock_far_ahead_is_clamped_to_the_hub_clock_plus_the_skew(machine: Machine) -> None:
    ahead = machine.op("lesson", LESSON, lesson_fields(), at=NOW_MS + 3_600_000)
    result = machine.send(ahead)[0]
    assert result["status"] == "applied" and result["clamped_hlc"] <= hlc.make(NOW_MS + 300_000, hlc.MAX_COUNTER)


# Rejections by the rules


@pytest.mark.parametrize(("code", "raw"), [
    ("unknown_author", lambda m: m.op("lesson", LESSON, lesson_fields(), author="t-nobody")),
    ("bad_id", lambda m: m.op("lesson", "not-the-derived-id", lesson_fields())),
    ("out_of_year", lambda m: m.op("lesson", lesson_id("c7", None, "2026-06-01", 2),
                                   lesson_fields(date="2026-06-01"))),
    ("future_date", lambda m: m.op("lesson", lesson_id("c7", None, "2026-12-09", 2),
                                   lesson_fields(date="2026-12-09"))),  # 21 days ahead: more than the 14 allowed
    ("unknown_class", lambda m: m.op("lesson", lesson_id("c9", None, DAY.isoformat(), 2),
                                     lesson_fields(**{"class": "c9"}))),
    ("unknown_group", lambda m: m.op("lesson", lesson_id("c7", "g-x", DAY.isoformat(), 2),
                                     lesson_fields(group="g-x"))),
    ("unknown_subject", lambda m: m.op("lesson", LESSON, lesson_fields(subject="chem"))),
    ("unknown_teacher", lambda m: m.op("lesson", LESSON, lesson_fields(teacher="t-ghost"))),
    ("not_your_class", lambda m: m.op("lesson", LESSON, lesson_fields(teacher="t-out"), author="t-out")),
    ("missing_field", lambda m: m.op("lesson", LESSON, {"topic": "Без даты"})),
    ("bad_value", lambda m: m.op("lesson", LESSON, lesson_fields(cancelled="да"))),
    ("unknown_record", lambda m: m.op("lesson", LESSON, {}, action="delete")),
])
def test_a_lesson_op_the_rules_refuse_is_rejected_with_its_code(machine: Machine, code: str, raw: Any) -> None:
    result = machine.send(raw(machine))[0]
    assert status(result) == ("rejected", code) and result["message"]


def test_a_substitution_the_deputy_did_not_plan_is_held_for_the_deputy(machine: Machine) -> None:
    substitute = machine.op("lesson", LESSON, lesson_fields(teacher="t-out", substitute=True), author="t-out")
    assert status(machine.send(substitute)[0]) == ("held", "unplanned_substitution")


def test_a_planned_substitute_records_the_lesson_in_their_own_name(hub: Hub, machine: Machine) -> None:
    hub.reference = replace(SCHOOL, substitutions=frozenset({("c7", None, DAY, 2, "t-out")}))
    substitute = machine.op("lesson", LESSON, lesson_fields(teacher="t-out", substitute=True), author="t-out")
    result = machine.send(substitute)[0]
    assert result["status"] == "applied" and result.get("substitute") is True


def test_a_lesson_may_be_planned_two_weeks_ahead(machine: Machine) -> None:
    ahead = lesson_id("c7", None, "2026-11-30", 2)
    planned = machine.op("lesson", ahead, lesson_fields(date="2026-11-30", homework="№ 5, 7"))
    assert status(machine.send(planned)[0]) == ("applied", None)


def test_marks_and_attendance_wait_for_the_lesson_day(machine: Machine) -> None:
    ahead = lesson_id("c7", None, "2026-11-30", 2)
    machine.send(machine.op("lesson", ahead, lesson_fields(date="2026-11-30")))
    mark = machine.op("mark", "m-1", mark_fields(lesson=ahead))
    row = machine.op("attendance", attendance_id(ahead, "s7"), {"lesson": ahead, "student": "s7", "status": "ill"})
    assert [status(r) for r in machine.send(mark, row)] == [("rejected", "lesson_in_future")] * 2


# Who may write: the device's scope


def test_a_device_writes_only_for_the_teachers_it_serves(hub: Hub, machine: Machine) -> None:
    hub.reference = replace(SCHOOL, served=frozenset({"t-rus"}))
    assert status(machine.send(machine.op("lesson", LESSON, lesson_fields()))[0]) == ("rejected", "not_your_device")


def test_a_device_bound_to_a_class_writes_no_other_class(hub: Hub, machine: Machine) -> None:
    hub.reference = replace(SCHOOL, device_classes=frozenset({"c1"}))
    assert status(machine.send(machine.op("lesson", LESSON, lesson_fields()))[0]) == ("rejected", "not_your_class")


@pytest.mark.parametrize(("code", "fields"), [
    ("unknown_lesson", mark_fields(lesson="no-such-lesson")),
    ("unknown_student", mark_fields(student="s-ghost")),
    ("student_not_in_class", mark_fields(student="s1")),
    ("student_not_in_class", mark_fields(student="s7-left")),
    ("bad_value", mark_fields(value="6")),
])
def test_a_mark_the_rules_refuse_is_rejected_with_its_code(machine: Machine, code: str, fields: dict) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    assert status(machine.send(machine.op("mark", "m-1", fields))[0]) == ("rejected", code)


def test_first_graders_get_no_marks(machine: Machine) -> None:
    lesson = machine.op("lesson", FIRST_GRADE_LESSON, lesson_fields(**{"class": "c1", "slot": 1,
                                                                       "teacher": "t-first"}), author="t-first")
    machine.send(lesson)
    mark = machine.op("mark", "m-1", mark_fields(student="s1", lesson=FIRST_GRADE_LESSON), author="t-first")
    assert status(machine.send(mark)[0]) == ("rejected", "grade_has_no_marks")


def test_another_teacher_may_not_mark_in_a_lesson_of_a_subject_they_do_not_teach(machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    assert status(machine.send(machine.op("mark", "m-1", mark_fields(), author="t-out"))[0]) == (
        "rejected", "not_your_class")


def test_the_class_teacher_sets_absence_reasons_in_any_lesson_of_the_class(hub: Hub, machine: Machine) -> None:
    rus = lesson_id("c7", None, DAY.isoformat(), 3)
    machine.send(machine.op("lesson", rus, lesson_fields(slot=3, subject="rus", teacher="t-rus"), author="t-rus"))
    reason = machine.op("attendance", attendance_id(rus, "s7"), {"lesson": rus, "student": "s7",
                                                                 "status": "ill"}, author="t-math")
    assert status(machine.send(reason)[0]) == ("applied", None)


def test_an_attendance_row_with_another_id_than_its_key_is_rejected(machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    row = machine.op("attendance", "made-up", {"lesson": LESSON, "student": "s7", "status": "late"})
    assert status(machine.send(row)[0]) == ("rejected", "bad_id")


def test_a_period_mark_for_an_unknown_period_is_rejected(machine: Machine) -> None:
    grade = machine.op("period_grade", period_grade_id("s7", "math", "q9"),
                       {"student": "s7", "subject": "math", "period": "q9", "value": "5", "status": "graded"})
    assert status(machine.send(grade)[0]) == ("rejected", "unknown_period")


def test_a_graded_period_mark_needs_a_value(machine: Machine) -> None:
    grade = machine.op("period_grade", period_grade_id("s7", "math", "q2"),
                       {"student": "s7", "subject": "math", "period": "q2", "value": None, "status": "graded"})
    assert status(machine.send(grade)[0]) == ("rejected", "missing_field")


def test_a_period_mark_long_after_the_period_ended_is_held(machine: Machine) -> None:
    grade = machine.op("period_grade", period_grade_id("s7", "math", "q1"),
                       {"student": "s7", "subject": "math", "period": "q1", "value": "4", "status": "graded"})
    assert status(machine.send(grade)[0]) == ("held", "late_correction")


def test_a_deferred_period_mark_needs_no_value(machine: Machine) -> None:
    grade = machine.op("period_grade", period_grade_id("s7", "math", "q2"),
                       {"student": "s7", "subject": "math", "period": "q2", "value": None, "status": "deferred"})
    assert status(machine.send(grade)[0]) == ("applied", None)


def test_a_test_may_be_planned_ahead_in_the_test_schedule(machine: Machine) -> None:
    plan = machine.op("test_plan", "tp-1", {"class": "c7", "group": None, "subject": "math", "date": "2026-12-10",
                                            "work_type": "test", "title": "Контрольная по дробям"})
    assert status(machine.send(plan)[0]) == ("applied", None)


def test_a_remark_for_a_student_of_another_class_is_refused(machine: Machine) -> None:
    remark = machine.op("remark", "r-1", {"student": "s1", "date": DAY.isoformat(), "kind": "remark",
                                          "subject": None, "text": "Опоздал"})
    assert status(machine.send(remark)[0]) == ("rejected", "not_your_class")


# Ids and sequence numbers


def test_a_seq_reused_with_a_new_op_id_is_rejected(machine: Machine) -> None:
    machine.send(machine.op("lesson", LESSON, lesson_fields()))
    reused = machine.op("lesson", LESSON, {"topic": "Другая"}, seq=1)
    assert status(machine.send(reused)[0]) == ("rejected", "seq_reused")


def test_an_op_id_owned_by_another_device_is_rejected_in_its_turn(hub: Hub, machine: Machine) -> None:
    op = machine.op("lesson", LESSON, lesson_fields())
    machine.send(op)
    thief = Machine(hub, "dev-b")
    stolen = {**op, "seq": 1}
    assert status(thief.send(stolen)[0]) == ("rejected", "op_id_taken") and hub.acked["dev-b"] == 1


@given(st.text(max_size=200))
def test_a_derived_id_is_the_uuid5_of_its_key_name(name: str) -> None:
    """Both sides derive lesson, attendance and period-mark ids as RFC 4122 uuid5 of the protocol namespace."""
    assert derived(name) == str(uuid.uuid5(NAMESPACE, name))


@given(st.integers(min_value=0, max_value=4_102_444_800_000),
       st.sampled_from(["Europe/Moscow", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Europe/Berlin",
                        "Australia/Lord_Howe", "Pacific/Chatham", "Africa/Monrovia"]))
@example(1162089300000, "America/St_Johns")  # 29.10.2006 02:35 UTC: 23:05 on the 28th, the clocks went back at 00:01
@example(1162089000000, "America/St_Johns")  # 02:30 UTC: 00:00 on the 29th, a minute before they did
@example(31538670000, "Africa/Monrovia")  # 01.01.1971 00:00 at an offset of -0:44:30
@example(31538669999, "Africa/Monrovia")  # and the last millisecond of 1970 there
@example(1794862800000, "Europe/Moscow")  # 17.11.2026 00:00 Moscow time, to the millisecond
@example(1794862799999, "Europe/Moscow")  # and the last millisecond of the 16th
def test_the_school_day_of_a_moment_is_its_calendar_date_in_the_school_zone(ms: int, zone: str) -> None:
    """Looked up by the quarter hour, the day is the one the time zone database gives: DST, half and quarter hours,
    clock changes a minute after midnight and offsets in seconds too."""
    timezone = ZoneInfo(zone)
    assert local_day(ms, timezone) == dt.datetime.fromtimestamp(ms / 1000, tz=timezone).date()
