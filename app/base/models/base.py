"""Declarative base, naming conventions and the change counter behind every record's `rev`."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Integer, MetaData, String, Table, event, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, scoped_session

# Stable constraint names so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    if TYPE_CHECKING:
        # Each of our models maps one plain Table (never a join or a select), so say so to the type checker.
        __table__: ClassVar[Table]


def new_id() -> str:
    """A fresh random record id."""
    return str(uuid.uuid4())


class Counter(Base):
    """Named monotonic counters; `rev` hands out the hub's change numbers."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Revisioned:
    """Mixin: the record gets a new `rev` from the change counter whenever it is inserted or changed."""

    rev: Mapped[int] = mapped_column(Integer, nullable=False, default=0, index=True)


def lock_revs(session: Session | scoped_session[Any]) -> None:
    """Lock the change counter row until commit (created on first use), serializing writers of records."""
    if session.connection().execute(
        update(Counter).where(Counter.name == "rev").values(value=Counter.value).returning(Counter.value)
    ).first() is None:
        dialect = session.connection().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.connection().execute(insert(Counter).values(name="rev", value=0).on_conflict_do_nothing())
        session.connection().execute(update(Counter).where(Counter.name == "rev").values(value=Counter.value))


def take_revs(session: Session | scoped_session[Any], count: int) -> int:
    """Reserve `count` consecutive change numbers and return the first.

    The UPDATE locks the counter row until commit, so revs become visible in commit order and a
    pull cursor never skips a change that commits late.
    """
    row = session.connection().execute(
        update(Counter).where(Counter.name == "rev").values(value=Counter.value + count).returning(Counter.value)
    ).first()
    if row is None:
        session.connection().execute(Counter.__table__.insert().values(name="rev", value=count))
        return 1
    return int(row[0]) - count + 1


@event.listens_for(Session, "before_flush")
def _stamp_revs(session: Session, _context: object, _instances: object) -> None:
    """Give every new or modified reference record its next rev."""
    changed = [o for o in list(session.new) + list(session.dirty) if isinstance(o, Revisioned)]
    changed = [o for o in changed if o in session.new or session.is_modified(o, include_collections=True)]
    if not changed or session.info.get("manual_revs"):
        return
    first = take_revs(session, len(changed))
    for offset, obj in enumerate(changed):
        obj.rev = first + offset
