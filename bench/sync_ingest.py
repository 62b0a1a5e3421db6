"""Sync ingest through real HTTP with gzip, against raw SQLite executemany of the same op-log rows.

Prints: one 5,000-op batch, a sustained run, bytes per op on the wire, the hub's peak RSS, and the
baseline's ops/s with the ratio; PostgreSQL's figure when its server binaries are installed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gzip
import http.client
import json
import os
import random
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from app import create_app
from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import OpLog
from app.demo import DEFAULT_SEED
from app.demo.school import build_school, write_school
from app.syncing.devices import register
from bench.timing import migrate
from bench.workload import generate
from sync import clock, ids
from tests.databases import postgres_server
from tests.hub_process import HubProcess

KEYS = ["bench-key"]
BATCH = 5000


def prepare(url: str, var: Path, total: int) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]]]:
    """Migrate, write the demo school, register one machine per grade, generate the workload."""
    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEYS": KEYS, "VAR_DIR": var})
    with app.app_context():
        migrate()
        year = ensure_calendar(settings())
        write_school(build_school(settings(), DEFAULT_SEED, year.id))
        db.session.commit()
        workload = generate(settings(), total)
        tokens = {}
        for name in workload:
            device, token = register(f"Ноутбук {name}")
            tokens[name] = token
            # Op ids as the client makes them (sync.ids.op_id); a new mark takes its creating op's id as the client
            # gives it (the correction of a mark then names that id).
            prefix, marks = ids.op_prefix(random.Random(name)), {}
            for seq, op in enumerate(workload[name], start=1):
                op["seq"], op["op"] = seq, ids.op_id(prefix, seq, op["hlc"])
                if op["entity"] == "mark":
                    op["id"] = marks.setdefault(op["id"], op["op"])
            workload[name] = [dict(op, _device=device.id) for op in workload[name]]
        db.session.commit()
        db.engine.dispose()
    return tokens, workload


def wire_json(body: dict[str, Any]) -> bytes:
    """A batch as the sync client encodes it (sync.transport.exchange): compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def bodies(workload: dict[str, list[dict[str, Any]]]) -> list[tuple[str, bytes, int]]:
    """Gzipped batches of at most BATCH ops, machines taking turns, ready before any timing starts, encoded and
    gzipped (level 6) as the sync client sends them."""
    queues = {name: [{k: v for k, v in op.items() if k != "_device"} for op in ops] for name, ops in workload.items()}
    devices = {name: ops[0]["_device"] for name, ops in workload.items()}
    out = []
    while any(queues.values()):
        for name, ops in queues.items():
            if ops:
                chunk, queues[name] = ops[:BATCH], ops[BATCH:]
                body = {"protocol": 1, "device": devices[name], "ops": chunk, "results": "short"}  # as the client
                out.append((name, gzip.compress(wire_json(body), 6), len(chunk)))
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


def ingest(url: str, var: Path, total: int, senders: int = 1) -> dict[str, Any]:
    """Run the hub on `url` and push the workload through it; return the figures. `senders`: connections sending at
    once, each for its own machines (machine i on connection i mod `senders`), each machine's batches in order."""
    tokens, workload = prepare(url, var, total)
    batches = bodies(workload)
    hub = HubProcess(url, var, KEYS, workers=2, extra_args=("--timeout", "120")).start()  # as `make run` starts it
    try:
        connection = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=300)
        statuses: Counter[str] = Counter()
        name, body, count = batches[0]
        started = time.perf_counter()
        statuses.update(r["status"] for r in post(connection, tokens[name], body)["results"])
        single = count / (time.perf_counter() - started)
        machines = list(workload)
        queues = [[b for b in batches[1:] if machines.index(b[0]) % senders == lane] for lane in range(senders)]
        started, cpu = time.perf_counter(), hub_cpu(hub)
        with concurrent.futures.ThreadPoolExecutor(senders) as pool:
            lanes = list(pool.map(lambda queue: send(hub.port, tokens, queue), queues))
        elapsed, cpu = time.perf_counter() - started, hub_cpu(hub) - cpu
        for lane in lanes:
            statuses.update(lane)
        sent_ops = sum(count for queue in queues for _name, _body, count in queue)
        sent_bytes = sum(len(body) for queue in queues for _name, body, _count in queue)
        return {"single": single, "sustained": sent_ops / elapsed, "ops": sent_ops,
                "bytes_per_op": sent_bytes / sent_ops, "rss_mb": hub.peak_rss_kb() / 1024,
                "statuses": dict(statuses), "cpu": cpu, "wall": elapsed,
                "rows": [row for _name, ops in workload.items() for row in log_rows(ops)][:sent_ops]}
    finally:
        hub.stop()


def send(port: int, tokens: dict[str, str], queue: list[tuple[str, bytes, int]]) -> Counter[str]:
    """Post each batch of a queue in turn on one kept-alive connection; the ops' outcomes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    statuses: Counter[str] = Counter()
    for name, body, _count in queue:
        statuses.update(r["status"] for r in post(connection, tokens[name], body)["results"])
    connection.close()
    return statuses


def hub_cpu(hub: HubProcess) -> float:
    """CPU seconds (user + system) the server's processes have used so far."""
    assert hub.process is not None
    pids = [hub.process.pid]
    children = Path(f"/proc/{hub.process.pid}/task/{hub.process.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def log_rows(ops: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The op-log rows of ops as the hub logs an applied op (payload: the op's JSON as sent)."""
    now = clock.now().isoformat()
    return [(op["op"], "dev-1", op["seq"], op["hlc"], op["hlc"], op["author"], op["entity"], op["id"], op["action"],
             json.dumps({k: v for k, v in op.items() if k != "_device"}, ensure_ascii=False, separators=(",", ":")),
             "applied", None, 0, now, now) for op in ops]


def baseline(rows: list[tuple[Any, ...]], var: Path) -> float:
    """Raw sqlite3 executemany of the same op-log rows (same table, same columns and indexes), BATCH per
    transaction, with the hub's durability (WAL, synchronous = FULL)."""
    path = var / "baseline.db"
    engine = create_engine(f"sqlite:///{path}")
    tables = [t for t in OpLog.metadata.sorted_tables if t.name in ("device", "op_log")]
    OpLog.metadata.create_all(engine, tables=tables)
    engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")  # the hub's durability (app/__init__.py): fsync per commit
    connection.execute("INSERT INTO device (id, name, created_at, token_generation, acked_seq, last_skew_ms, skewed, "
                       "last_hlc) VALUES ('dev-1', 'b', '2026-11-22', 1, 0, 0, 0, '0')")
    data = [row[:2] + (index + 1,) + row[3:] for index, row in enumerate(rows)]  # one device: seqs unique
    sql = ("INSERT INTO op_log (op_id, device_id, seq, hlc, applied_hlc, author_id, entity, record_id, action, "
           "payload, status, code, substitute, received_at, decided_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    started = time.perf_counter()
    for start in range(0, len(data), BATCH):
        with connection:
            connection.executemany(sql, data[start:start + BATCH])
    elapsed = time.perf_counter() - started
    connection.close()
    return len(data) / elapsed


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A temporary folder for one run's database and keys."""
    with tempfile.TemporaryDirectory(prefix="tetrad-bench-") as folder:
        yield Path(folder)


def run(total: int = 105_000) -> None:
    """Print the sync ingest figures: machines one at a time, then two at once (a district's night: many schools'
    machines sync in the same hour), each on a hub of its own."""
    print(f"Sync ingest over real HTTP + gzip (gunicorn -w 2, as `make run`), demo school, ~{total:,} ops")
    with scratch() as var:
        hub = ingest(f"sqlite:///{var / 'hub.db'}", var, total)
        raw = baseline(hub["rows"], var)
    with scratch() as var:
        both = ingest(f"sqlite:///{var / 'hub.db'}", var, total, senders=2)
    print(f"  SQLite  one {BATCH:,}-op batch:    {hub['single']:>9,.0f} ops/s")
    print(f"  SQLite  sustained {hub['ops']:,} ops, one machine at a time: {hub['sustained']:>9,.0f} ops/s   "
          f"(target ≥ 25,000); hub CPU {hub['cpu']:.2f} s for {hub['wall']:.2f} s wall, "
          f"{hub['ops'] / hub['cpu']:,.0f} ops per CPU second")
    print(f"  SQLite  sustained {both['ops']:,} ops, two machines at once: {both['sustained']:>9,.0f} ops/s   "
          f"(target ≥ 25,000); hub CPU {both['cpu']:.2f} s for {both['wall']:.2f} s wall")
    print(f"  baseline raw sqlite3 executemany of the same op-log rows (one process): {raw:>9,.0f} rows/s")
    print(f"  ratio hub / baseline: {hub['sustained'] / raw:.3f} one machine at a time, "
          f"{both['sustained'] / raw:.3f} two at once   (target ≥ 0.25)")
    print(f"  wire: {hub['bytes_per_op']:.1f} bytes per op gzipped   (target ≤ 60)")
    print(f"  hub peak RSS: {max(hub['rss_mb'], both['rss_mb']):.0f} MB   (target ≤ 150)")
    print(f"  outcomes: {hub['statuses']}; two at once: {both['statuses']}")
    try:
        with scratch() as var, postgres_server(durable=True) as url:  # fsync on, as a school's server runs
            pg = ingest(url, var, total)
        with scratch() as var, postgres_server(durable=True) as url:
            pg2 = ingest(url, var, total, senders=2)
        print(f"  PostgreSQL sustained {pg['ops']:,} ops, one machine at a time: {pg['sustained']:>9,.0f} ops/s   "
              f"(target ≥ 15,000); hub CPU {pg['cpu']:.2f} s; one batch {pg['single']:,.0f} ops/s; "
              f"RSS {pg['rss_mb']:.0f} MB")
        print(f"  PostgreSQL sustained {pg2['ops']:,} ops, two machines at once: {pg2['sustained']:>9,.0f} ops/s   "
              f"(target ≥ 15,000); hub CPU {pg2['cpu']:.2f} s; outcomes {pg2['statuses']}")
    except RuntimeError as exc:
        print(f"  PostgreSQL: skipped ({exc})")
