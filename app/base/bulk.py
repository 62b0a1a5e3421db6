"""Bulk INSERT and UPDATE straight to the driver's executemany, for the sync hot path.

SQLAlchemy's executemany builds a parameter dict per row and runs type processors through layers of
calls; here each column's bind processor (the dialect's own: dates, JSON, booleans) is looked up once
and applied in a tight loop, and rows go to the DBAPI as tuples. Same SQL, same stored values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.base.extensions import db

Processor = Callable[[Any], Any] | None


def _placeholder() -> str:
    return "?" if db.session.get_bind().dialect.paramstyle == "qmark" else "%s"


def _processors(table: Table, columns: Sequence[str]) -> list[Processor]:
    dialect = db.session.get_bind().dialect
    return [table.c[name].type._cached_bind_processor(dialect) for name in columns]


Row = tuple[Any, ...]


def _tuples(rows: Sequence[dict[str, Any]], columns: Sequence[str], processors: list[Processor]) -> list[Row]:
    pairs = list(zip(columns, processors, strict=True))
    return [tuple(p(row[c]) if p else row[c] for c, p in pairs) for row in rows]


def insert(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (all rows carry the same keys)."""
    if not rows:
        return
    columns = list(rows[0])
    mark = _placeholder()
    sql = (f'INSERT INTO "{table.name}" ({", ".join(f"{c!s}" for c in _quoted(columns))}) '
           f'VALUES ({", ".join(mark for _ in columns)})')
    db.session.connection().exec_driver_sql(sql, _tuples(rows, columns, _processors(table, columns)))


def update(table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE each row's other columns WHERE `key` matches (all rows carry the same keys)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key] + [key]
    mark = _placeholder()
    sets = ", ".join(f"{name} = {mark}" for name in _quoted(columns[:-1]))
    sql = f'UPDATE "{table.name}" SET {sets} WHERE {_quoted([key])[0]} = {mark}'
    db.session.connection().exec_driver_sql(sql, _tuples(rows, columns, _processors(table, columns)))


def _quoted(names: Sequence[str]) -> list[str]:
    return [f'"{name}"' for name in names]


def upsert(table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], changes: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET changes, on either engine; `changes` values may refer to
    the existing row's columns (`table.c.views + 1`)."""
    if not rows:
        return
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table)
    db.session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes), list(rows))
