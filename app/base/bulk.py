"""Bulk INSERT and UPDATE straight to the driver's executemany, for the sync hot path.

SQLAlchemy's executemany builds a parameter dict per row and runs type processors through layers of
calls; here each column's bind processor (the dialect's own: dates, JSON, booleans) is looked up once
and applied column by column (`map` in C; a processor of hashable values such as dates and flags runs once
per distinct value), and rows go to the DBAPI as tuples. Same SQL, same stored values. A JSON column named in
`json_text` takes text that already is JSON (an op as it was sent), stored as it is, not serialised again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from app.base.extensions import db

Processor = Callable[[Any], Any] | None


def _placeholder() -> str:
    return "?" if db.session.get_bind().dialect.paramstyle == "qmark" else "%s"


def _same(text: Any) -> Any:
    return text


def _json_text() -> Processor:
    """How JSON text goes to the driver as it is: SQLite stores the string; psycopg sends it as json."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    from psycopg.types.json import Json

    return lambda text: None if text is None else Json(text, dumps=_same)


def _processors(table: Table, columns: Sequence[str], json_text: Collection[str] = ()) -> list[Processor]:
    dialect = db.session.get_bind().dialect
    out: list[Processor] = []
    for name in columns:
        column_type = table.c[name].type
        if name in json_text:
            assert isinstance(column_type, JSON), name
            out.append(_json_text())
            continue
        processor = column_type._cached_bind_processor(dialect)
        if processor is not None and isinstance(column_type, Boolean | Date | DateTime):
            processor = functools.lru_cache(maxsize=None)(processor)  # hashable values, few distinct ones
        out.append(processor)
    return out


Row = tuple[Any, ...]


def _tuples(rows: Sequence[dict[str, Any]], columns: Sequence[str], processors: list[Processor]) -> list[Row]:
    values = []
    for name, processor in zip(columns, processors, strict=True):
        column = map(itemgetter(name), rows)
        values.append(list(map(processor, column)) if processor else list(column))
    return list(zip(*values, strict=True))


def insert(table: Table, rows: Sequence[dict[str, Any]], json_text: Collection[str] = ()) -> None:
    """INSERT every row (all rows carry the same keys); `json_text`: JSON columns given as JSON text."""
    if not rows:
        return
    columns = list(rows[0])
    tuples = _tuples(rows, columns, _processors(table, columns, json_text))
    if db.session.get_bind().dialect.name == "postgresql":
        _copy(table, columns, tuples)
        return
    mark = _placeholder()
    sql = (f'INSERT INTO "{table.name}" ({", ".join(f"{c!s}" for c in _quoted(columns))}) '
           f'VALUES ({", ".join(mark for _ in columns)})')
    db.session.connection().exec_driver_sql(sql, tuples)


def _copy(table: Table, columns: Sequence[str], tuples: list[Row]) -> None:
    """PostgreSQL: the rows as one COPY FROM STDIN in the session's transaction (constraints, foreign keys and
    triggers apply as to INSERT); the driver's errors come out as SQLAlchemy's, as from `exec_driver_sql`."""
    import psycopg

    driver = db.session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    sql = f'COPY "{table.name}" ({", ".join(_quoted(columns))}) FROM STDIN'
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in tuples:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def update(table: Table, key: str, rows: Sequence[dict[str, Any]], json_text: Collection[str] = ()) -> None:
    """UPDATE each row's other columns WHERE `key` matches (all rows carry the same keys); `json_text` as for
    `insert`."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key] + [key]
    mark = _placeholder()
    sets = ", ".join(f"{name} = {mark}" for name in _quoted(columns[:-1]))
    sql = f'UPDATE "{table.name}" SET {sets} WHERE {_quoted([key])[0]} = {mark}'
    db.session.connection().exec_driver_sql(sql, _tuples(rows, columns, _processors(table, columns, json_text)))


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
