"""What a database holds, in a few lines that compare: tables and row counts, checksums of the journal and op log.

The same report is written into every backup's manifest, printed after a restore and by `backup report` on
the live hub, so "the restored hub holds what the copy held" is a comparison of two texts. The epoch table
is left out: a restore adds its own row there on purpose. A journal row's clock is hashed in one form whatever form
it is stored in (`journal_store.clock_by_field`), so a copy taken before a change of that form still compares.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from typing import Any

from sqlalchemy import Connection, func, inspect, select, text

from app.base.journal_store import clock_by_field
from app.base.models import JOURNAL_MODELS, Base, OpLog

LEFT_OUT = frozenset({"hub_epoch", "alembic_version"})
OP_LOG_COLUMNS = ("id", "op_id", "device_id", "seq", "hlc", "applied_hlc", "entity", "record_id", "action", "status",
                  "code")


def database_report(conn: Connection) -> dict[str, Any]:
    """The report of the database behind `conn`, read in the transaction `conn` is in."""
    present = set(inspect(conn).get_table_names())
    tables = {}
    for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
        if table.name in present and table.name not in LEFT_OUT:
            tables[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
        if "alembic_version" in present else None
    journal = hashlib.sha256()
    for name in sorted(JOURNAL_MODELS):
        table = JOURNAL_MODELS[name].__table__
        clock = list(table.c.keys()).index("clock")
        for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
            journal.update(_line(name, (*row[:clock], clock_by_field(row[clock]), *row[clock + 1:])))
    op_log = hashlib.sha256()
    columns = [OpLog.__table__.c[name] for name in OP_LOG_COLUMNS]
    for row in conn.execute(select(*columns).order_by(OpLog.__table__.c.id)):
        op_log.update(_line("op_log", row))
    high_water = conn.execute(select(func.coalesce(func.max(OpLog.__table__.c.id), 0))).scalar_one()
    return {"schema_revision": revision, "tables": tables, "journal_sha256": journal.hexdigest(),
            "op_log_sha256": op_log.hexdigest(), "op_log_high_water": int(high_water)}


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as the lines staff read (and tests compare)."""
    lines = [f"Версия схемы: {report['schema_revision'] or '—'}", "Таблицы (строк):"]
    lines += [f"  {name}: {count}" for name, count in report["tables"].items()]
    journal = ", ".join(sorted(JOURNAL_MODELS))
    lines.append(f"Журнал ({journal}), SHA-256: {report['journal_sha256']}")
    lines.append(f"Журнал операций: последняя запись № {report['op_log_high_water']}, "
                 f"SHA-256: {report['op_log_sha256']}")
    return lines


def _line(table: str, row: Any) -> bytes:
    """One row as canonical JSON: the same values give the same bytes on every run."""
    return (json.dumps([table, *(plain_value(v) for v in row)], ensure_ascii=False, sort_keys=True,
                       separators=(",", ":")) + "\n").encode()


def plain_value(value: Any) -> Any:
    """A database value as JSON: datetimes in UTC without offset, dates ISO, decimals and bytes as text."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value
