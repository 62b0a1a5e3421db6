"""The night's sync over a bad mobile link, as cron runs it: the real `tetrad-sync` through tests/badlink.py.

The link is scaled to the suite (32 kbps each way, 200 ms round trip, a cut every 8 s, a few hundred ops);
the full-size night (5,000 ops, 50 kbps, 500 ms, 30 s) is in the bench (`python -m bench badlink`).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from app.base.extensions import db
from app.base.models import OpLog
from app.syncing.devices import register
from sync.client import SyncClient
from tests.badlink import BadLink
from tests.conftest import TEST_KEYS
from tests.hub_process import HubProcess
from tests.live import assert_view_equals_hub, record_week
from tests.school import build_tiny_school

TETRAD_SYNC = str(Path(sys.executable).parent / "tetrad-sync")


def cron(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One `tetrad-sync` run, as cron starts it."""
    return subprocess.run([TETRAD_SYNC, *args, "--db", str(path)], capture_output=True, text=True, timeout=90,
                          env={**os.environ})


def test_the_nights_sync_over_a_bad_link_finishes_with_nothing_lost_or_applied_twice(app, db_url, tmp_path):
    school = build_tiny_school()
    _, token = register("Кабинет 7А", [school["c7"]])
    db.session.commit()
    hub = HubProcess(db_url, tmp_path / "var", TEST_KEYS).start()
    path = tmp_path / "client.db"
    started = time.monotonic()
    try:
        with BadLink(("127.0.0.1", hub.port), kbps=32, rtt=0.2, cut_every=8, lifetime=150) as link:
            for _ in range(5):  # the first connection, resumed after cuts like any run
                done = cron(path, "init", "--hub", link.url, "--token", token)
                if done.returncode == 0:
                    break
            assert done.returncode == 0, done.stdout
            machine = SyncClient(path)
            total = record_week(machine, school)  # the teachers' two school days, offline
            ops = machine.store.pending()
            one_pass = len(gzip.compress(json.dumps({"protocol": 1, "device": machine.device, "ops": ops},
                                                    ensure_ascii=False, separators=(",", ":")).encode(), 6))
            machine.close()
            before_up, before_down, cuts_before = link.bytes_up, link.bytes_down, link.cuts
            runs, lines, night = 0, [], time.monotonic()
            while runs < 20:
                runs += 1
                done = cron(path, "run")
                lines.append(done.stdout.strip())
                backlog = SyncClient(path)
                left = backlog.store.backlog()
                backlog.close()
                if done.returncode == 0 and left == 0:
                    break
            up, down = link.bytes_up - before_up, link.bytes_down - before_down
            cuts = link.cuts - cuts_before
            night = time.monotonic() - night
        assert done.returncode == 0 and left == 0, lines
        assert night > 8 and cuts >= 1, (night, cuts)  # the night outlasts the 8 s between cuts: it met one
        db.session.rollback()
        logged = db.session.execute(select(OpLog.status, func.count()).group_by(OpLog.status)).all()
        assert dict(logged) == {"applied": total}  # every op once: nothing lost, nothing twice
        assert {op["op"] for op in ops} == set(db.session.scalars(select(OpLog.op_id)))
        machine = SyncClient(path)
        try:
            assert assert_view_equals_hub(machine) == total
            report = machine.link_report()
            assert report["pending"] == 0 and report["bytes_per_second"] and report["last_good_sync"]
        finally:
            machine.close()
        # Bytes on the link, HTTP headers included, against one gzipped pass of the ops.
        assert up <= 2.0 * one_pass, (up, one_pass, lines)
        assert down <= up, (down, up)
        assert time.monotonic() - started < 90
    finally:
        hub.stop()
    status = cron(path, "status")
    assert "Связь: " in status.stdout and "КБ/с" in status.stdout, status.stdout
