"""A restore strands no classroom: machines resend what the restored hub lost; one past its window re-bases."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.base.extensions import db
from app.base.models import Device, DeviceRebase, HubEpoch, Mark, OpLog
from sync import retention
from tests.databases import engine_name
from tests.live import WsgiTransport, new_client, recent_day
from tests.school import SUITE_NOW, build_tiny_school, lesson_fields


@pytest.fixture
def school(app):
    """The tiny school of tests/school.py."""
    return build_tiny_school()


def empty_database(tmp_path: Path, db_url: str) -> str:
    """The URL of a new, empty database of the engine under test."""
    if engine_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    name = f"restored_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(db_url).set(database=name).render_as_string(hide_password=False)


class Machine:
    """A classroom client that remembers every op id it ever wrote."""

    def __init__(self, app, school, path: Path, name: str, slot: int) -> None:
        self.client = new_client(app, path, name)
        assert self.client.sync().ok  # the first pull: the school's reference data
        self.school, self.slot, self.ops = school, slot, []
        self.lesson, fields = lesson_fields(school, day=recent_day(), slot=slot)
        self.ops.append(self.client.record("lesson", fields, author=school["t_petrova"]).op)

    def mark(self, value: str) -> None:
        """Record one more mark for Иванова in this machine's lesson."""
        fields = {"lesson": self.lesson, "student": self.school["st_ivanova"], "value": value, "work_type": "oral"}
        self.ops.append(self.client.record("mark", fields, author=self.school["t_petrova"]).op)

    def sync(self) -> None:
        """Sync and insist it finished."""
        report = self.client.sync()
        assert report.ok, report.summary()


def backup_and_restore(runner, make_app, tmp_path: Path, db_url: str):
    """Back up now; return a function that restores that copy into a new database and returns its hub."""
    result = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    (copy,) = (tmp_path / "backups").iterdir()

    def restore():
        restored = make_app(SQLALCHEMY_DATABASE_URI=empty_database(tmp_path, db_url))
        with restored.app_context():
            done = restored.test_cli_runner().invoke(args=["restore", str(copy)])
            db.session.remove()
        assert done.exit_code == 0, done.output
        return restored

    return restore


def op_log_of(restored) -> dict[str, tuple[str, int, str]]:
    """The restored hub's op log: op id → (device, seq, status)."""
    with restored.app_context():
        rows = db.session.execute(select(OpLog.op_id, OpLog.device_id, OpLog.seq, OpLog.status)).all()
        db.session.remove()
    ids = [r.op_id for r in rows]
    assert len(ids) == len(set(ids))
    return {r.op_id: (r.device_id, r.seq, r.status) for r in rows}


def test_after_a_restore_every_op_a_machine_retained_is_back_exactly_once(school, runner, make_app, tmp_path,
                                                                         db_url):
    one = Machine(runner.app, school, tmp_path / "one.db", "Кабинет 1", slot=2)
    two = Machine(runner.app, school, tmp_path / "two.db", "Кабинет 2", slot=3)
    one.mark("5")
    one.sync()
    two.sync()
    restore = backup_and_restore(runner, make_app, tmp_path, db_url)
    one.mark("4")
    one.mark("3")
    two.mark("2")
    one.sync()
    two.sync()
    live_marks = db.session.scalar(select(func.count()).select_from(Mark))
    assert live_marks == 4

    restored = restore()
    with restored.app_context():
        assert db.session.scalar(select(func.count()).select_from(Mark)) == 1  # the copy predates three marks
        acked_in_copy = dict(db.session.execute(select(Device.name, Device.acked_seq)).all())
        epochs = db.session.scalars(select(HubEpoch.epoch).order_by(HubEpoch.number)).all()
        db.session.remove()
    assert acked_in_copy == {"Кабинет 1": 2, "Кабинет 2": 1}
    for machine in (one, two):
        machine.client.transport = WsgiTransport(restored)
        machine.sync()
        assert machine.client.store.get("epoch") == epochs[-1]
    two.mark("5")  # and life goes on
    two.sync()
    one.sync()

    log = op_log_of(restored)
    for machine in (one, two):
        assert [log[op][1] for op in machine.ops] == list(range(1, len(machine.ops) + 1))
        assert {log[op][2] for op in machine.ops} == {"applied"}
    assert len(log) == len(one.ops) + len(two.ops) == 7
    with restored.app_context():
        acked = dict(db.session.execute(select(Device.name, Device.acked_seq)).all())
        assert db.session.scalar(select(func.count()).select_from(Mark)) == 5
        assert db.session.scalar(select(func.count()).select_from(DeviceRebase)) == 0
        db.session.remove()
    assert acked == {"Кабинет 1": 4, "Кабинет 2": 3}
    # The pull started again from the beginning: a machine sees the other's marks, resent after the restore.
    marks = sorted(r.values["value"] for r in one.client.views("mark").values() if not r.values.get("deleted"))
    assert marks == ["2", "3", "4", "5", "5"]
    assert one.client.store.backlog() == two.client.store.backlog() == 0


def test_a_machine_past_its_window_rebases_instead_of_queueing_forever(school, runner, make_app, tmp_path, db_url):
    machine = Machine(runner.app, school, tmp_path / "one.db", "Кабинет 1", slot=2)
    machine.sync()
    restore = backup_and_restore(runner, make_app, tmp_path, db_url)
    machine.mark("4")
    machine.mark("3")
    machine.sync()
    # Past the window: the machine no longer keeps ops 2 and 3, which only the lost hub had.
    machine.client.store.db.execute("DELETE FROM retained")
    restored = restore()
    machine.client.transport = WsgiTransport(restored)
    machine.mark("5")
    machine.sync()

    log = op_log_of(restored)
    assert machine.ops[1] not in log and machine.ops[2] not in log  # gone with the old hub, on the record below
    assert log[machine.ops[0]][1:] == (1, "applied")
    assert log[machine.ops[3]][1:] == (4, "applied")
    with restored.app_context():
        device = db.session.scalars(select(Device)).one()
        rebase = db.session.scalars(select(DeviceRebase)).one()
        db.session.remove()
    assert device.acked_seq == 4
    assert device.gap_since is None
    assert (rebase.device_id, rebase.first_seq, rebase.last_seq) == (device.id, 2, 3)
    assert machine.client.store.backlog() == 0
    machine.sync()  # the next status shows the rebase in effect: the machine stops sending it
    assert machine.client.store.get("rebase") is None
    with restored.app_context():
        listing = restored.test_cli_runner().invoke(args=["device", "list"])
        db.session.remove()
    assert "после восстановления утеряны seq 2–3" in listing.output


def test_ops_the_restored_hub_held_queued_inside_a_rebased_range_are_applied_not_left_queued(
        school, runner, make_app, tmp_path, db_url):
    machine = Machine(runner.app, school, tmp_path / "one.db", "Кабинет 1", slot=2)
    machine.sync()
    machine.mark("4")  # seq 2
    machine.mark("3")  # seq 3
    store = machine.client.store.db
    held_back = store.execute("SELECT seq, op, entity, record_id, body FROM outbox WHERE seq = 2").fetchone()
    store.execute("DELETE FROM outbox WHERE seq = 2")  # seq 2 is late (another batch, a file): 3 waits
    machine.client.sync()
    assert db.session.scalars(select(OpLog.status).where(OpLog.op_id == machine.ops[2])).one() == "queued"
    restore = backup_and_restore(runner, make_app, tmp_path, db_url)  # the copy holds seq 3 as queued
    store.execute("INSERT INTO outbox (seq, op, entity, record_id, body) VALUES (?, ?, ?, ?, ?)", held_back)
    machine.sync()  # the live hub applies 2 and 3
    store.execute("DELETE FROM retained")  # past the window: the machine no longer keeps 2 and 3
    restored = restore()
    machine.client.transport = WsgiTransport(restored)
    machine.mark("5")  # seq 4
    machine.sync()

    log = op_log_of(restored)
    assert machine.ops[1] not in log  # seq 2: only the lost hub had it
    assert log[machine.ops[2]][1:] == (3, "applied")  # held queued by the copy: applied in its turn
    assert log[machine.ops[3]][1:] == (4, "applied")
    with restored.app_context():
        device = db.session.scalars(select(Device)).one()
        lost = db.session.execute(select(DeviceRebase.first_seq, DeviceRebase.last_seq)).all()
        marks = sorted(db.session.scalars(select(Mark.value)))
        db.session.remove()
    assert (device.acked_seq, device.gap_since) == (4, None)
    assert [tuple(r) for r in lost] == [(2, 2)]
    assert marks == ["3", "5"]
    assert machine.client.store.backlog() == 0
    machine.sync()
    assert machine.client.store.get("rebase") is None


def test_a_rebase_is_ignored_unless_the_hubs_epoch_began_with_a_restore(school, app, tmp_path):
    machine = Machine(app, school, tmp_path / "one.db", "Кабинет 1", slot=2)
    machine.sync()
    # A client bug or a stale file asks to skip seqs on a hub that was never restored: nothing is skipped.
    machine.client.store.put("rebase", {"epoch": machine.client.store.get("epoch"), "from_seq": 5})
    machine.mark("4")  # seq 2
    machine.sync()
    assert db.session.scalars(select(Device.acked_seq)).one() == 2
    assert db.session.scalar(select(func.count()).select_from(DeviceRebase)) == 0


def test_acknowledged_ops_are_kept_for_the_hubs_window_then_forgotten(school, app, tmp_path, set_clock):
    machine = Machine(app, school, tmp_path / "one.db", "Кабинет 1", slot=2)
    machine.mark("5")
    machine.sync()
    assert machine.client.store.backlog() == 0
    assert retention.retained_count(machine.client.store) == 2
    set_clock(SUITE_NOW + dt.timedelta(days=59))
    machine.sync()
    assert retention.retained_count(machine.client.store) == 2
    set_clock(SUITE_NOW + dt.timedelta(days=61))  # sync.retain_days is 60
    machine.sync()
    assert retention.retained_count(machine.client.store) == 0
