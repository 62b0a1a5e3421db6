"""Sync ingest through real HTTP with gzip, against raw SQLite executemany of the same op-log rows.

Prints: one 5,000-op batch, a sustained run, bytes per op on the wire, the hub's peak RSS, and the
baseline's ops/s with the ratio; PostgreSQL's figure when its server binaries are installed.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import create_engine

from app import create_app
from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import OpLog
from app.demo import DEFAULT_SEED
from app.demo.school import build_school, write_school
from app.syncing.devices import register
from bench.workload import generate
from sync import clock
from tests.databases import postgres_server
from tests.hub_process import HubProcess

KEYS = ["bench-key"]
BATCH = 5000


def prepare(url: str, var: Path, total: int) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]]]:
    """Migrate, write the demo school, register one machine per grade, generate the workload."""
    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEYS": KEYS, "VAR_DIR": var})
    with app.app_context():
        upgrade()
        year = ensure_calendar(settings())
        write_school(build_school(settings(), DEFAULT_SEED, year.id))
        db.session.commit()
        workload = generate(settings(), total)
        tokens = {}
        for name in workload:
            device, token = register(f"Ноутбук {name}")
            tokens[name] = token
            for seq, op in enumerate(workload[name], start=1):
                op["seq"] = seq
            workload[name] = [dict(op, _device=device.id) for op in workload[name]]
        db.session.commit()
        db.engine.dispose()
    return tokens, workload


def bodies(workload: dict[str, list[dict[str, Any]]]) -> list[tuple[str, bytes, int]]:
    """Gzipped batches of at most BATCH ops, machines taking turns, ready before any timing starts."""
    queues = {name: [{k: v for k, v in op.items() if k != "_device"} for op in ops] for name, ops in workload.items()}
    devices = {name: ops[0]["_device"] for name, ops in workload.items()}
    out = []
    while any(queues.values()):
        for name, ops in queues.items():
            if ops:
                chunk, queues[name] = ops[:BATCH], ops[BATCH:]
                body = json.dumps({"protocol": 1, "device": devices[name], "ops": chunk}, ensure_ascii=False)
                out.append((name, gzip.compress(body.encode(), 6), len(chunk)))
    return out


def post(connection: http.client.HTTPConnection, token: str, body: bytes) -> dict[str, Any]:
    """One sync request on a kept-alive connection."""
    connection.request("POST", "/api/v1/sync", body=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip",
        "Accept-Encoding": "gzip"})
    answer = connection.getresponse()
    data = answer.read()
    if answer.getheader("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    if answer.status != 200:
        raise RuntimeError(f"hub answered {answer.status}: {data[:300]!r}")
    result: dict[str, Any] = json.loads(data)
    return result


def ingest(url: str, var: Path, total: int) -> dict[str, Any]:
    """Run the hub on `url` and push the workload through it; return the figures."""
    tokens, workload = prepare(url, var, total)
    batches = bodies(workload)
    hub = HubProcess(url, var, KEYS).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=300)
        statuses: Counter[str] = Counter()
        name, body, count = batches[0]
        started = time.perf_counter()
        statuses.update(r["status"] for r in post(connection, tokens[name], body)["results"])
        single = count / (time.perf_counter() - started)
        started, sent_ops, sent_bytes = time.perf_counter(), 0, 0
        for name, body, count in batches[1:]:
            statuses.update(r["status"] for r in post(connection, tokens[name], body)["results"])
            sent_ops, sent_bytes = sent_ops + count, sent_bytes + len(body)
        sustained = sent_ops / (time.perf_counter() - started)
        return {"single": single, "sustained": sustained, "ops": sent_ops, "bytes_per_op": sent_bytes / sent_ops,
                "rss_mb": hub.peak_rss_kb() / 1024, "statuses": dict(statuses)}
    finally:
        hub.stop()


def baseline(rows: int, var: Path) -> float:
    """Raw sqlite3 executemany of the same op-log rows (same table, same columns), BATCH per transaction."""
    path = var / "baseline.db"
    engine = create_engine(f"sqlite:///{path}")
    tables = [t for t in OpLog.metadata.sorted_tables if t.name in ("device", "op_log")]
    OpLog.metadata.create_all(engine, tables=tables)
    engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("INSERT INTO device (id, name, created_at, token_generation, acked_seq, last_skew_ms, skewed, "
                       "last_hlc) VALUES ('dev-1', 'b', '2026-11-22', 1, 0, 0, 0, '0')")
    now = clock.now().isoformat()
    payload = json.dumps({"op": "x", "fields": {"lesson": "l" * 36, "student": "s" * 36, "value": "5",
                                                "work_type": "oral"}})
    data = [(f"op-{i:08d}", "dev-1", i + 1, "1763734992123-0000", "1763734992123-0000", "a" * 36, "mark",
             f"r-{i}", "upsert", payload, "applied", None, 0, now, now) for i in range(rows)]
    sql = ("INSERT INTO op_log (op_id, device_id, seq, hlc, applied_hlc, author_id, entity, record_id, action, "
           "payload, status, code, substitute, received_at, decided_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    started = time.perf_counter()
    for start in range(0, rows, BATCH):
        with connection:
            connection.executemany(sql, data[start:start + BATCH])
    elapsed = time.perf_counter() - started
    connection.close()
    return rows / elapsed


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A temporary folder for one run's database and keys."""
    with tempfile.TemporaryDirectory(prefix="tetrad-bench-") as folder:
        yield Path(folder)


def run(total: int = 105_000) -> None:
    """Print the sync ingest figures."""
    print(f"Sync ingest over real HTTP + gzip (gunicorn, 1 worker), demo school, ~{total:,} ops")
    with scratch() as var:
        hub = ingest(f"sqlite:///{var / 'hub.db'}", var, total)
        raw = baseline(hub["ops"], var)
    print(f"  SQLite  one {BATCH:,}-op batch:    {hub['single']:>9,.0f} ops/s")
    print(f"  SQLite  sustained {hub['ops']:,} ops: {hub['sustained']:>9,.0f} ops/s   (target ≥ 25,000)")
    print(f"  baseline raw sqlite3 executemany of the same op-log rows: {raw:>9,.0f} rows/s")
    print(f"  ratio hub / baseline: {hub['sustained'] / raw:.3f}   (target ≥ 0.5)")
    print(f"  wire: {hub['bytes_per_op']:.1f} bytes per op gzipped   (target ≤ 100)")
    print(f"  hub peak RSS: {hub['rss_mb']:.0f} MB   (target ≤ 200)")
    print(f"  outcomes: {hub['statuses']}")
    try:
        with scratch() as var, postgres_server() as url:
            pg = ingest(url, var, total)
        print(f"  PostgreSQL sustained {pg['ops']:,} ops: {pg['sustained']:>9,.0f} ops/s; one batch "
              f"{pg['single']:,.0f} ops/s; RSS {pg['rss_mb']:.0f} MB")
    except RuntimeError as exc:
        print(f"  PostgreSQL: skipped ({exc})")
