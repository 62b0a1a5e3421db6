"""Convergence (PROTOCOL.md): devices edit offline, sync over a broken network with wrong clocks, and end equal.

Each example builds the tiny school, registers 2–3 classroom clients (in-process transport, each with its
own clock: right, hours off, or years off) and plays random steps: lessons (the same lesson and the same
field on several machines), attendance (the same row on several machines), marks, edits, deletes; syncs
through a network that drops requests, loses answers after the hub committed, cuts bodies in both
directions, answers with a captive portal or 503, or delivers a batch twice; and old batches replayed.
At the end every device pushes everything and pulls to the end; then every device's view of every
journal record equals the hub's, the op log holds each recorded op exactly once, and replaying the op
log's writes in any order gives the hub's records again.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.base.extensions import db
from app.base.models import OpLog
from sync import clock
from sync.client import Recorded, SyncClient
from sync.errors import RecordRefused
from sync.ids import attendance_id, lesson_id
from sync.merge import Record, Write, merge
from sync.protocol import ATTENDANCE_STATUSES, JOURNAL
from tests.conftest import _empty_all_tables
from tests.live import FAULTS, Faulty, WsgiTransport, assert_view_equals_hub, hub_records, new_client, recent_day
from tests.school import TinySchool, build_tiny_school

HOUR, YEAR = 3_600_000, 365 * 86_400_000
CLOCK_ERRORS = (0, 3 * HOUR, -3 * HOUR, 2 * YEAR, -2 * YEAR)
AUTHORS = ("own", "own", "homeroom")  # the lesson's own teacher, or the class teacher
STUDENTS = ("st_ivanova", "st_smirnov")
TOPICS = ("Дроби", "Уравнения", "Причастие", "Повторение")
VALUES = ("5", "4", "3", "2")
EDITS = ("lesson", "lesson", "attendance", "attendance", "mark", "mark", "mark_edit", "mark_delete", "lesson_delete")


@dataclass(frozen=True)
class Edit:
    device: int
    kind: str
    author: str
    slot: int
    days_ago: int
    student: str
    pick: int


@dataclass(frozen=True)
class Sync:
    device: int
    faults: tuple[str, ...]


@dataclass(frozen=True)
class Replay:
    device: int
    pick: int


@dataclass
class Plan:
    clock_errors: list[int]
    steps: list[Edit | Sync | Replay]


@st.composite
def plans(draw: Any) -> Plan:
    """2–3 devices with their clock errors and 10–40 steps (half of them edits)."""
    devices = draw(st.integers(2, 3))
    device = st.integers(0, devices - 1)
    edit = st.builds(Edit, device=device, kind=st.sampled_from(EDITS), author=st.sampled_from(AUTHORS),
                     slot=st.integers(1, 2), days_ago=st.integers(1, 2), student=st.sampled_from(STUDENTS),
                     pick=st.integers(0, 7))
    sync = st.builds(Sync, device=device, faults=st.lists(st.sampled_from(FAULTS), max_size=3).map(tuple))
    step = st.one_of(edit, edit, edit, sync, sync, st.builds(Replay, device=device, pick=st.integers(0, 20)))
    return Plan(draw(st.lists(st.sampled_from(CLOCK_ERRORS), min_size=devices, max_size=devices)),
                draw(st.lists(step, min_size=10, max_size=40)))


@dataclass
class World:
    """The hub, the school and the devices of one example."""

    school: TinySchool
    clients: list[SyncClient]
    networks: list[Faulty]
    recorded: list[str] = field(default_factory=list)
    refused: int = 0


def play_edit(world: World, step: Edit) -> None:
    """Make one edit on a device, as its teacher would; the rules may refuse it."""
    client, school = world.clients[step.device], world.school
    # slot 1 is Петрова's maths, slot 2 Сидоров's Russian; Петрова is also 7А's class teacher
    author = school["t_petrova" if step.author == "homeroom" or step.slot == 1 else "t_sidorov"]
    day = recent_day(step.days_ago).isoformat()
    lesson = lesson_id(school["c7"], None, day, step.slot)
    student = school[step.student]
    marks = sorted(i for i, r in client.views("mark").items() if not r.deleted)

    def keep(entry: Recorded) -> Recorded:
        world.recorded.append(entry.op)
        return entry

    try:
        current = client.view("lesson", lesson)
        if step.kind == "lesson" and current is not None and not current.deleted:
            keep(client.record("lesson", {"topic": TOPICS[step.pick % 4]}, author=author, id=lesson))
        elif step.kind in ("lesson", "attendance", "mark"):
            if current is None or current.deleted or step.kind == "lesson":
                keep(client.record("lesson", lesson_fields(school, day, step.slot, TOPICS[step.pick % 4]),
                                   author=author))
            if step.kind == "attendance":
                status = ATTENDANCE_STATUSES[step.pick % len(ATTENDANCE_STATUSES)]
                row = keep(client.record("attendance", {"lesson": lesson, "student": student, "status": status},
                                         author=author))
                assert row.id == attendance_id(lesson, student)
            elif step.kind == "mark":
                keep(client.record("mark", {"lesson": lesson, "student": student, "value": VALUES[step.pick % 4],
                                            "work_type": "oral"}, author=author))
        elif step.kind == "mark_edit" and marks:
            keep(client.record("mark", {"value": VALUES[step.pick % 4]}, author=author,
                               id=marks[step.pick % len(marks)]))
        elif step.kind == "mark_delete" and marks:
            keep(client.delete("mark", marks[step.pick % len(marks)], author=author))
        elif step.kind == "lesson_delete" and current is not None:
            keep(client.delete("lesson", lesson, author=author))
    except RecordRefused:
        world.refused += 1


def lesson_fields(school: TinySchool, day: str, slot: int, topic: str) -> dict[str, Any]:
    """A whole lesson of 7А: slot 1 is Петрова's maths, slot 2 Сидоров's Russian."""
    teacher, subject = ("t_petrova", "s_math") if slot == 1 else ("t_sidorov", "s_russian")
    return {"date": day, "slot": slot, "class": school["c7"], "group": None, "subject": school[subject],
            "teacher": school[teacher], "substitute": False, "topic": topic, "homework": "", "homework_due": None,
            "cancelled": False}


def play(world: World, step: Edit | Sync | Replay) -> None:
    """Play one step of the plan."""
    if isinstance(step, Edit):
        play_edit(world, step)
    elif isinstance(step, Sync):
        network = world.networks[step.device]
        network.faults = list(step.faults)
        world.clients[step.device].sync()  # may fail: the network is bad
        network.faults = []
    else:
        network = world.networks[step.device]
        posts = [r for r in network.inner.requests if r[0] == "POST" and r[3] in network.delivered]
        if posts:
            method, path, headers, body = posts[step.pick % len(posts)]
            status, _, answer = network.inner.request(method, f"http://hub.test{path}", headers, body)
            assert status == 200, answer


def rebuilt_from_op_log(shuffle: random.Random) -> dict[tuple[str, str], Record]:
    """Every record rebuilt from the op log's merged writes, applied in a random order."""
    rows = list(db.session.execute(
        select(OpLog.op_id, OpLog.device_id, OpLog.author_id, OpLog.applied_hlc, OpLog.entity, OpLog.record_id,
               OpLog.action, OpLog.payload).where(OpLog.status.in_(("applied", "superseded", "conflict")))))
    shuffle.shuffle(rows)
    records: dict[tuple[str, str], Record] = defaultdict(Record)
    for row in rows:
        write = Write(row.applied_hlc, row.device_id, row.op_id, row.author_id)
        merge(records[(row.entity, row.record_id)], row.action, row.payload.get("fields") or {}, write, None)
    return records


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=plans(), shuffle=st.randoms(use_true_random=False))
def test_devices_converge_to_the_hub_whatever_the_network_and_clocks(app, plan, shuffle):
    _empty_all_tables()
    school = build_tiny_school()
    with tempfile.TemporaryDirectory() as folder:
        networks = [Faulty(WsgiTransport(app)) for _ in plan.clock_errors]
        clients = [
            new_client(app, Path(folder) / f"d{n}.db", f"Кабинет {n}", transport=networks[n], attempts=3,
                       now_ms=lambda error=error: clock.wall_ms() + error)
            for n, error in enumerate(plan.clock_errors)
        ]
        world = World(school, clients, networks)
        try:
            for client in clients:  # as `tetrad-sync init` does: the first pull brings the school
                assert client.sync().ok
            for step in plan.steps:
                play(world, step)
            for _ in range(2):  # everyone pushes everything, then everyone pulls to the end
                for client in clients:
                    report = client.sync()
                    assert report.ok, report.summary()
            assert all(client.store.backlog() == 0 for client in clients)
            for client in clients:
                assert_view_equals_hub(client)
        finally:
            for client in clients:
                client.close()

    logged = db.session.execute(select(OpLog.op_id, func.count()).group_by(OpLog.op_id)).all()
    assert sorted(op for op, _ in logged) == sorted(world.recorded)
    assert all(count == 1 for _, count in logged)
    assert db.session.scalar(select(func.count()).select_from(OpLog).where(OpLog.status == "queued")) == 0

    rebuilt = rebuilt_from_op_log(shuffle)
    for entity in JOURNAL:
        for record_id, record in hub_records(entity).items():
            again = rebuilt[(entity, record_id)]
            assert {k: w.stamp() for k, w in again.clock.items()} == {k: w.stamp() for k, w in record.clock.items()}
            assert {k: record.values[k] for k in again.values} == again.values
