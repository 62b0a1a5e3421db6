"""A classroom machine with no link at all: a setup file from the hub, batch files out, answer files back.

Files in any order, twice, or stale: nothing lost, nothing applied twice.
"""

from __future__ import annotations

import gzip
import json

import pytest

from app.base.extensions import db
from app.base.models import Device, Lesson, Mark
from app.syncing.devices import register
from sync.cli import run as tetrad_sync
from sync.client import SyncClient
from tests.classroom_support import school_with_timetable
from tests.live import assert_view_equals_hub, oplog_count
from tests.school import LESSON_DAY, Machine, lesson_fields


class NoNetwork:
    """A transport that fails the test if the client ever tries HTTP."""

    def request(self, method, url, headers, body):
        raise AssertionError(f"HTTP attempted: {method} {url}")


@pytest.fixture
def school(app):
    """The tiny school with a timetable and PINs."""
    return school_with_timetable()


@pytest.fixture
def device(app, school):
    """A classroom machine registered on the hub: its id."""
    record, _token = register("Кабинет 7")
    db.session.commit()
    return record.id


@pytest.fixture
def offline(tmp_path, runner, device):
    """A client started from the hub's setup file, with no HTTP ever."""
    setup = tmp_path / "stick" / "setup.json.gz"
    setup.parent.mkdir()
    result = runner.invoke(args=["device", "setup-file", device, str(setup)])
    assert result.exit_code == 0, result.output
    client = SyncClient(tmp_path / "client.db", transport=NoNetwork())
    assert client.start_from_file(setup) == device
    yield client
    client.close()


def import_file(runner, path):
    """`flask sync import PATH` on the hub; return the answer file beside it."""
    result = runner.invoke(args=["sync", "import", str(path)])
    assert result.exit_code == 0, result.output
    answer = path.with_name(path.name.replace(".json.gz", ".answer.json.gz"))
    assert answer.exists(), result.output
    return answer


def test_the_setup_file_holds_token_status_and_the_first_pull_and_the_pin_hashes(offline, school, tmp_path):
    data = json.loads(gzip.decompress((tmp_path / "stick" / "setup.json.gz").read_bytes()))
    assert data["kind"] == "tetrad-setup" and data["token"] and data["status"]["device"] == offline.device
    assert data["pull"]["more"] is False and data["pull"]["cursor"]
    assert offline.store.get("cursor") == data["pull"]["cursor"]
    assert offline.store.record("teacher", school["t_petrova"]).values["pin_hash"].startswith("pbkdf2_sha256$")
    assert offline.store.get("status")["plan_ahead_days"] == 14


def test_batches_and_answers_in_any_order_twice_and_stale_lose_nothing_and_apply_nothing_twice(
        offline, school, runner, tmp_path, client):
    petrova = school["t_petrova"]
    lesson, fields = lesson_fields(school, day=LESSON_DAY)
    offline.record("lesson", fields, author=petrova)
    first_mark = offline.record("mark", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                         "work_type": "test"}, author=petrova).id
    stick = tmp_path / "stick"
    assert offline.export(stick / "batch1.json.gz") == 2

    # Another machine writes in the same class on the hub: its rows must reach this machine by file.
    other = Machine(client, "Кабинет 9")
    russian_lesson, russian = lesson_fields(school, day=LESSON_DAY, slot=3, subject="s_russian", teacher="t_sidorov")
    assert other.post([other.op("lesson", russian_lesson, russian, author=school["t_sidorov"])]).status_code == 200

    answer1 = import_file(runner, stick / "batch1.json.gz")
    offline.record("mark", {"lesson": lesson, "student": school["st_smirnov"], "value": "4", "work_type": "oral"},
                   author=petrova)
    assert offline.export(stick / "batch2.json.gz") == 3  # the first two are not acknowledged here yet
    answer2 = import_file(runner, stick / "batch2.json.gz")
    assert import_file(runner, stick / "batch1.json.gz")  # the same stick imported twice on the hub
    logged = oplog_count()
    assert logged == 4  # three ops of this machine and the other machine's one, each once

    report = offline.read_answer(answer2)  # the newer answer first
    assert report.sent == 3 and offline.store.backlog() == 0, report.summary()
    assert offline.view("lesson", russian_lesson).values["teacher"] == school["t_sidorov"]
    cursor = offline.store.get("cursor")
    offline.read_answer(answer1)  # stale: older cursor, ops already settled
    offline.read_answer(answer2)  # twice
    assert offline.store.get("cursor") == cursor and offline.store.backlog() == 0
    assert offline.store.get("file_acked_seq") == 3

    db.session.expire_all()
    assert oplog_count() == logged
    assert db.session.get(Lesson, lesson).topic == fields["topic"]
    assert db.session.get(Mark, first_mark).value == "5"
    assert db.session.get(Device, offline.device).acked_seq == 3
    assert assert_view_equals_hub(offline) == 4

    # the machine keeps working offline: a new op gets the next seq, and the next file carries only it
    offline.record("mark", {"lesson": lesson, "student": school["st_ivanova"], "value": "4", "work_type": "oral"},
                   author=petrova)
    assert offline.store.pending()[0]["seq"] == 4 and offline.export(stick / "batch3.json.gz") == 1


def test_an_answer_read_before_its_batch_was_imported_elsewhere_changes_nothing_it_should_not(
        offline, school, runner, tmp_path):
    lesson, fields = lesson_fields(school, day=LESSON_DAY)
    offline.record("lesson", fields, author=school["t_petrova"])
    stick = tmp_path / "stick"
    offline.export(stick / "a.json.gz")
    # An answer to an empty batch (made before this lesson existed) acknowledges nothing of it.
    empty = SyncClient(tmp_path / "other.db", transport=NoNetwork())
    empty.start_from_file(stick / "setup.json.gz")
    empty.export(stick / "empty.json.gz")
    empty.close()
    offline.read_answer(import_file(runner, stick / "empty.json.gz"))
    assert offline.store.backlog() == 1  # still waiting: never dropped before the hub acknowledged it
    offline.read_answer(import_file(runner, stick / "a.json.gz"))
    assert offline.store.backlog() == 0


def test_tetrad_sync_init_from_file_and_import_answer(tmp_path, runner, device, school):
    setup = tmp_path / "setup.json.gz"
    assert runner.invoke(args=["device", "setup-file", device, str(setup), "--hub", "http://hub.school"]).exit_code == 0
    db_file = tmp_path / "cli.db"
    out = []

    class Out:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    assert tetrad_sync(["init", "--from-file", str(setup), "--db", str(db_file)], out=Out()) == 0
    assert "без связи" in "".join(out)
    client = SyncClient(db_file, transport=NoNetwork())
    lesson, fields = lesson_fields(school, day=LESSON_DAY)
    client.record("lesson", fields, author=school["t_petrova"])
    assert client.store.get("hub") == "http://hub.school"
    client.export(tmp_path / "b.json.gz")
    client.close()
    answer = import_file(runner, tmp_path / "b.json.gz")
    assert tetrad_sync(["import-answer", str(answer), "--db", str(db_file)], out=Out()) == 0
    assert "принято 1" in "".join(out)
    client = SyncClient(db_file, transport=NoNetwork())
    assert client.store.backlog() == 0 and client.overview()["outcomes"] == []
    client.close()
