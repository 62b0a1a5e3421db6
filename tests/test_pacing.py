"""Client pacing (`sync.pacing`): exchanges sized to what the link carries, learned across runs and cuts."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from collections.abc import Mapping

import pytest

from sync.cli import run as cli
from sync.client import SyncClient
from sync.pacing import FIRST_BATCH, Link, Pace
from sync.transport import Answer
from tests.live import (
    Faulty,
    WsgiTransport,
    assert_view_equals_hub,
    new_client,
    oplog_count,
    record_week,
    sent_ops,
)
from tests.school import build_tiny_school, lesson_fields


@pytest.fixture
def school(app):
    """The tiny school of tests/school.py."""
    return build_tiny_school()


class FakeTime:
    """A monotonic clock that only the slow link moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowLink:
    """The in-process hub behind a link of `rate` bytes/s each way and `rtt` seconds; time passes on a fake clock."""

    def __init__(self, inner: WsgiTransport, clock: FakeTime, rate: float, rtt: float) -> None:
        self.inner, self.clock, self.rate, self.rtt = inner, clock, rate, rtt
        self.exchanges: list[tuple[str, int, float]] = []  # path, ops sent, seconds
        self.pull_limits: list[int] = []

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        status, answer_headers, data = self.inner.request(method, url, headers, body)
        seconds = 2 * self.rtt + len(body or b"") / self.rate + len(data) / self.rate
        self.clock.now += seconds
        self.exchanges.append((url.rsplit("/", 1)[-1], len(sent_ops(body)), seconds))
        if body and (pull := json.loads(gzip.decompress(body)).get("pull")):
            self.pull_limits.append(pull["limit"])
        return status, answer_headers, data


def test_batches_grow_to_what_the_link_carries_in_the_target_time_and_the_size_is_kept(app, school, tmp_path):
    clock = FakeTime()
    # 2,000 B/s: ops with the client's compact ids (sync.ids.op_id) are small enough that a week's batches fill
    # the 4 s target only on a link this slow.
    link = SlowLink(WsgiTransport(app), clock, rate=2000, rtt=0.25)
    machine = new_client(app, tmp_path / "c.db", transport=link, monotonic=clock, target_seconds=4)
    try:
        assert machine.sync().ok
        total = record_week(machine, school)
        link.exchanges.clear()
        report = machine.sync()
        assert report.ok and report.sent == total and oplog_count() == total
        pushes = [(ops, seconds) for path, ops, seconds in link.exchanges if path == "sync" and ops]
        assert pushes[0][0] == FIRST_BATCH
        assert max(ops for ops, _ in pushes) > 1.5 * FIRST_BATCH, pushes  # it grew while exchanges fitted
        assert all(seconds <= 4 * 1.3 for _, seconds in pushes), pushes  # none runs far past the target
        assert max(seconds for _, seconds in pushes) >= 4 * 0.5, pushes  # and the link is used
        learned = machine.link_report()
        assert learned["batch_ops"] != FIRST_BATCH and learned["bytes_per_second"] and learned["pending"] == 0
        assert learned["last_good_sync"]
        assert_view_equals_hub(machine)
    finally:
        machine.close()
    again = SyncClient(tmp_path / "c.db")
    try:
        assert again.link_report()["batch_ops"] == learned["batch_ops"]  # the next run starts where this one ended
    finally:
        again.close()


def test_a_cut_halves_the_batch_at_once_and_successes_grow_it_slowly(app, school, tmp_path):
    transport = Faulty(WsgiTransport(app))
    machine = new_client(app, tmp_path / "c.db", transport=transport, first_batch=40)
    try:
        assert machine.sync().ok
        total = record_week(machine, school, days=2)
        transport.inner.requests.clear()
        transport.faults = ["none", "drop_answer", "cut_answer"]  # status, then two batches cut after they landed
        report = machine.sync()
        assert report.ok and oplog_count() == total  # the resent ops were duplicates, applied once
        batches = [len(sent_ops(body)) for _, path, _, body in transport.inner.requests if path.endswith("/sync")]
        assert batches[:5] == [40, 20, 10, 12, 15], batches
    finally:
        machine.close()


def test_pull_pages_are_paced_like_batches(app, school, tmp_path):
    clock = FakeTime()
    # 600 B/s: room for a page to grow past 2 records within 3 s, now that status and answers carry the
    # second round's fields (epoch, classes, teachers); at 400 B/s two records already took 2.1 s.
    link = SlowLink(WsgiTransport(app), clock, rate=600, rtt=0.25)
    machine = new_client(app, tmp_path / "c.db", transport=link, monotonic=clock, target_seconds=3)
    try:
        machine.link.pull = Pace(2)
        assert machine.sync().ok
        pages = [seconds for path, ops, seconds in link.exchanges if path == "sync"]
        assert len(pages) > 2 and all(seconds <= 3 * 1.5 for seconds in pages), pages
        assert link.pull_limits[0] == 2 and max(link.pull_limits) > 2  # pages grew while they fitted
    finally:
        machine.close()


def test_the_stored_link_survives_damage_and_status_shows_it(app, school, tmp_path):
    assert Link.load({"push": "nonsense"}, 7).push.size == 7
    assert Link.load(None).pull.size > 0
    machine = new_client(app, tmp_path / "c.db")
    out = io.StringIO()
    assert cli(["status"], out=out, client=SyncClient(tmp_path / "c.db")) == 0
    assert "Связь: ещё не измерена." in out.getvalue()
    try:
        assert machine.sync().ok
    finally:
        machine.close()
    out = io.StringIO()
    assert cli(["status"], out=out, client=SyncClient(tmp_path / "c.db")) == 0
    text = out.getvalue()
    assert "Связь: " in text and "КБ/с" in text and "пакет до 50 операций" in text, text
    assert "Последняя завершённая синхронизация: 22.11.2026" in text


def test_a_change_sends_only_the_fields_that_differ_and_results_come_short(app, school, tmp_path):
    transport = WsgiTransport(app)
    machine = new_client(app, tmp_path / "c.db", transport=transport)
    try:
        assert machine.sync().ok
        lesson, fields = lesson_fields(school, day=dt.date(2026, 11, 20))
        machine.record("lesson", fields, author=school["t_petrova"])
        assert machine.sync().ok
        machine.record("lesson", {**fields, "topic": "Системы уравнений"}, author=school["t_petrova"])
        assert [op["fields"] for op in machine.store.pending()] == [{"topic": "Системы уравнений"}]
        transport.requests.clear()
        assert machine.sync().ok
        body = next(json.loads(gzip.decompress(b)) for _, path, _, b in transport.requests if b and "/sync" in path)
        assert body["results"] == "short"
        assert_view_equals_hub(machine)
    finally:
        machine.close()
