"""The night's sync over a bad mobile link: the real `tetrad-sync run`, again and again as cron runs it.

A whole-school classroom machine records two school days of the demo school through `SyncClient.record()`
(lessons, every student's attendance, marks; 5,000 ops), then `tetrad-sync run` is started again and again
through tests/badlink.py (50 kbps each way, 500 ms round trip, every connection cut every 30 s) against
gunicorn until its outbox is empty. Then a machine bound to one class runs `tetrad-sync init` over the same
link, and `run` until its first pull is done.

Prints: time to done, runs, bytes up and down on the link (HTTP included) against one gzipped pass of the
ops, ops lost and applied twice, the bound machine's first pull; each against the issue's target.
`--quick` runs 1,000 ops on the same link.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import create_app
from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import SchoolClass, Student, TimetableEntry
from app.demo import DEFAULT_SEED
from app.demo.school import build_school, write_school
from app.syncing.devices import register
from bench.sync_ingest import KEYS, scratch
from bench.timing import migrate
from bench.workload import school_days
from sync import clock, ids
from sync.client import SyncClient
from tests.badlink import BadLink
from tests.hub_process import HubProcess

TETRAD_SYNC = str(Path(sys.executable).parent / "tetrad-sync")
STATUSES = ("present", "present", "present", "late", "absent_excused", "ill")


def prepare(url: str, var: Path) -> tuple[str, str, str]:
    """Migrate, write the demo school; register a whole-school machine and one bound to a class; their tokens."""
    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEYS": KEYS, "VAR_DIR": var})
    with app.app_context():
        migrate()
        year = ensure_calendar(settings())
        write_school(build_school(settings(), DEFAULT_SEED, year.id))
        db.session.commit()
        _, whole = register("Ноутбук учительской")
        first_class = db.session.scalars(select(SchoolClass).order_by(SchoolClass.grade.desc())).first()
        assert first_class is not None
        class_id = first_class.id
        _, bound = register(f"Кабинет {first_class.name}", [class_id])
        db.session.commit()
        db.engine.dispose()
    return whole, bound, class_id


def record_days(client: SyncClient, url: str, total: int) -> int:
    """Two school days ending today, recorded as teachers would, until `total` ops; return how many."""
    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEYS": KEYS})
    with app.app_context():
        conf = settings()
        today = conf.today()
        days = school_days(conf, today - dt.timedelta(days=8), today)[-2:]
        students: dict[str, list[str]] = defaultdict(list)
        for s in db.session.scalars(select(Student).where(Student.left_on.is_(None)).order_by(Student.last_name)):
            students[s.class_id].append(s.id)
        entries = list(db.session.scalars(select(TimetableEntry)))
        grades = {c.id: c.grade for c in db.session.scalars(select(SchoolClass))}
        no_marks = conf.no_marks_grades
        work = [w.code for w in conf.work_types][:3] or ["oral"]
        db.engine.dispose()
    count = 0
    for day in days:
        todays = sorted((e for e in entries if e.weekday == day.isoweekday()
                         and e.valid_from <= day and (e.valid_to is None or e.valid_to >= day)),
                        key=lambda e: (e.class_id, e.slot))
        for n, entry in enumerate(todays):
            lesson = ids.lesson_id(entry.class_id, entry.group_id, day.isoformat(), entry.slot)
            client.record("lesson", {"date": day.isoformat(), "slot": entry.slot, "class": entry.class_id,
                                     "group": entry.group_id, "subject": entry.subject_id,
                                     "teacher": entry.teacher_id, "substitute": False,
                                     "topic": f"Тема урока {n % 97 + 1}", "homework": f"§ {n % 40 + 1}",
                                     "homework_due": None, "cancelled": False}, author=entry.teacher_id)
            count += 1
            for i, student in enumerate(students[entry.class_id]):
                client.record("attendance", {"lesson": lesson, "student": student,
                                             "status": STATUSES[(n + i) % len(STATUSES)]}, author=entry.teacher_id)
                count += 1
                if (n + i) % 4 == 0 and grades[entry.class_id] not in no_marks:
                    client.record("mark", {"lesson": lesson, "student": student, "value": "54435"[(n + i) % 5],
                                           "work_type": work[i % len(work)]}, author=entry.teacher_id)
                    count += 1
                if count >= total:
                    return count
    return count


def cron(path: Path, *args: str) -> tuple[int, str]:
    """One `tetrad-sync` command as cron starts it: exit code and its line."""
    done = subprocess.run([TETRAD_SYNC, *args, "--db", str(path)], capture_output=True, text=True, timeout=900)
    return done.returncode, done.stdout.strip()


def night(total: int) -> dict[str, Any]:
    """Run the bad-link night; return its figures."""
    with scratch() as var:
        url = f"sqlite:///{var / 'hub.db'}"
        whole, bound, _class_id = prepare(url, var)
        hub = HubProcess(url, var, KEYS).start()
        try:
            path = var / "client.db"
            machine = SyncClient(path)
            machine.connect(hub.url, whole)  # set up at school on its own network
            assert machine.sync().ok
            recorded = record_days(machine, url, total)
            ops = machine.store.pending()
            one_pass = len(gzip.compress(json.dumps({"protocol": 1, "device": machine.device, "ops": ops},
                                                    ensure_ascii=False, separators=(",", ":")).encode(), 6))
            with machine.store.transaction():
                machine.store.put("link", None)  # a link it has never seen
            machine.close()
            with BadLink(("127.0.0.1", hub.port), kbps=50, rtt=0.5, cut_every=30, lifetime=3600) as link:
                with sqlite3.connect(path) as client_db:
                    client_db.execute("UPDATE meta SET value = ? WHERE key = 'hub'", (json.dumps(link.url),))
                started, runs, lines = time.monotonic(), 0, []
                while runs < 100:
                    runs += 1
                    code, line = cron(path, "run")
                    lines.append(line)
                    if code == 0 and _backlog(path) == 0:
                        break
                seconds = time.monotonic() - started
                up, down, cuts = link.bytes_up, link.bytes_down, link.cuts
                _, status = cron(path, "status")
                first_pull = _first_pull(link.url, bound, var)
            lost, twice = _check(url, ops)
        finally:
            hub.stop()
    return {"ops": recorded, "seconds": seconds, "runs": runs, "up": up, "down": down, "one_pass": one_pass,
            "cuts": cuts, "lost": lost, "twice": twice, "last": lines[-1], "status": status, **first_pull}


def _backlog(path: Path) -> int:
    with sqlite3.connect(path) as client_db:
        return int(client_db.execute("SELECT count(*) FROM outbox").fetchone()[0])


def _first_pull(hub_url: str, token: str, var: Path) -> dict[str, Any]:
    """A machine bound to one class connects over the link and pulls until done (init, then runs)."""
    path = var / "bound.db"
    started, runs = time.monotonic(), 0
    code, line = 1, ""
    while runs < 30:
        runs += 1
        code, line = cron(path, "init", "--hub", hub_url, "--token", token) if not _connected(path) \
            else cron(path, "run")
        if code == 0:
            break
    with sqlite3.connect(path) as client_db:
        records = int(client_db.execute("SELECT count(*) FROM replica").fetchone()[0])
    return {"bound_seconds": time.monotonic() - started, "bound_runs": runs, "bound_records": records,
            "bound_ok": code == 0, "bound_last": line}


def _connected(path: Path) -> bool:
    if not path.exists():
        return False
    with sqlite3.connect(path) as client_db:
        return client_db.execute("SELECT 1 FROM meta WHERE key = 'device'").fetchone() is not None


def _check(url: str, ops: list[dict[str, Any]]) -> tuple[int, int]:
    """Ops the hub never logged, and ops logged more than once or applied twice (a record's clock twice)."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as hub_db:
        logged: dict[str, int] = defaultdict(int)
        for (op_id,) in hub_db.execute("SELECT op_id FROM op_log"):
            logged[op_id] += 1
    wanted = {op["op"] for op in ops}
    lost = len(wanted - set(logged))
    twice = sum(1 for op_id in wanted if logged.get(op_id, 0) > 1)
    return lost, twice


def run(quick: bool = False) -> None:
    """Print the bad-link night's figures."""
    total = 1_000 if quick else 5_000
    print(f"Bad-link night: {total:,} ops of two school days, tetrad-sync run as cron through 50 kbps each way, "
          "500 ms RTT, every connection cut every 30 s (tests/badlink.py), gunicorn hub, demo school")
    clock.now()  # the real clock: the bench is a night of today
    f = night(total)
    minutes = f["seconds"] / 60
    print(f"  recorded {f['ops']:,} ops; done in {minutes:.1f} min over {f['runs']} runs, {f['cuts']} cuts   "
          "(target ≤ 10 min)")
    print(f"  up   {f['up']:>9,} bytes = {f['up'] / f['one_pass']:.2f} × one gzipped pass ({f['one_pass']:,} bytes, "
          f"{f['one_pass'] / f['ops']:.1f} bytes/op)   (target ≤ 1.3)")
    print(f"  down {f['down']:>9,} bytes = {f['down'] / f['up']:.2f} × the upload   (target ≤ 0.4)")
    print(f"  ops lost {f['lost']}, applied twice {f['twice']}   (target 0 and 0)")
    print(f"  last run: {f['last']}")
    print("  " + f["status"].replace("\n", "\n  "))
    print(f"  bound machine's first pull: {f['bound_records']:,} records in {f['bound_seconds'] / 60:.1f} min, "
          f"{f['bound_runs']} runs, {'done' if f['bound_ok'] else 'NOT done'}   (target ≤ 5 min)")
