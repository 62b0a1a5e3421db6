"""Bulk INSERT and UPDATE straight to the driver's executemany, for the sync hot path.

SQLAlchemy's executemany builds a parameter dict per row and runs type processors through layers of
calls; here each column's bind processor (the dialect's own: dates, JSON, booleans) is looked up once
and applied column by column (`map` in C; a processor of hashable values such as dates and flags runs once
per distinct value); callers give rows as tuples of the columns they name, which go to the DBAPI as they are.
Same SQL, same stored values. A JSON column named in `json_text` takes text that already is JSON (an op as it was
sent), stored as it is, not serialised again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from typing import Any

import msgspec
from sqlalchemy import JSON, Boolean, ColumnElement, Date, DateTime, String, Table, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import QueryableAttribute

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


def _processed(rows: Sequence[Row], processors: list[Processor]) -> Sequence[Row]:
    """The rows with each column's processor applied (column by column, `map` in C); as they are when none has one."""
    if not any(processors):
        return rows
    columns: list[Any] = list(zip(*rows, strict=True))
    for index, processor in enumerate(processors):
        if processor is not None:
            columns[index] = map(processor, columns[index])
    return list(zip(*columns, strict=True))


def insert(table: Table, columns: Sequence[str], rows: Sequence[Row], json_text: Collection[str] = ()) -> None:
    """INSERT every row (a tuple of `columns`' values); `json_text`: JSON columns given as JSON text."""
    if not rows:
        return
    rows = _processed(rows, _processors(table, columns, json_text))
    if db.session.get_bind().dialect.name == "postgresql":
        _copy(table, columns, rows)
        return
    mark = _placeholder()
    sql = (f'INSERT INTO "{table.name}" ({", ".join(f"{c!s}" for c in _quoted(columns))}) '
           f'VALUES ({", ".join(mark for _ in columns)})')
    db.session.connection().exec_driver_sql(sql, rows)


def _copy(table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """PostgreSQL: the rows as one COPY FROM STDIN in the session's transaction (constraints, foreign keys and
    triggers apply as to INSERT); the driver's errors come out as SQLAlchemy's, as from `exec_driver_sql`."""
    import psycopg

    driver = db.session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    sql = f'COPY "{table.name}" ({", ".join(_quoted(columns))}) FROM STDIN'
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def update(table: Table, columns: Sequence[str], rows: Sequence[Row], json_text: Collection[str] = ()) -> None:
    """UPDATE each row's columns WHERE the last column (the key) matches; `json_text` as for `insert`."""
    if not rows:
        return
    mark = _placeholder()
    names = _quoted(columns)
    sets = ", ".join(f"{name} = {mark}" for name in names[:-1])
    sql = f'UPDATE "{table.name}" SET {sets} WHERE {names[-1]} = {mark}'
    db.session.connection().exec_driver_sql(sql, _processed(rows, _processors(table, columns, json_text)))


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


def among(column: ColumnElement[Any] | QueryableAttribute[Any], values: Collection[str]) -> ColumnElement[bool]:
    """`column IN values` as one bound parameter: an array on PostgreSQL (`= ANY`), a JSON array read by `json_each`
    on SQLite. One statement however many values, compiled once: a batch looks up thousands of op and record ids,
    which as `IN (?, ?, …)` cost a statement per 900 and a compilation of each."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    array = msgspec.json.encode(list(values)).decode()
    given = func.json_each(bindparam(None, array, type_=String)).table_valued("value")
    return column.in_(select(given.c.value))
