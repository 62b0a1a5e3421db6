"""journal clocks stored compactly: one entry per distinct write, [hlc, device, op, author, rev, field, ...]; journal
rows indexed by (scope_class_id, rev) for class-bound pulls; conflicts by the losing device

Revision ID: c3f1a8d2e5b7
Revises: b7c4e2a9d310
Create Date: 2026-12-02 16:00:00

A record's fields mostly share one write (a new mark's five fields are one), which the old form,
{field: [hlc, device, op, author, rev]}, repeated for each field: 668 bytes per mark against about 200.
Every journal row is rewritten, in chunks; the downgrade writes the old form back.

A class-bound machine's pull (changes of its classes after its cursor, in rev order) read every row its classes
ever had through the scope_class_id index and sorted them; by (scope_class_id, rev) it reads the changes after the
cursor only. The last page of every pull lists the device's conflicts: by an index on conflict.loser_device, not
a scan of every conflict.
"""
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3f1a8d2e5b7'
down_revision = 'b7c4e2a9d310'
branch_labels = None
depends_on = None

TABLES = ('lesson', 'attendance', 'mark', 'remark', 'period_grade', 'test_plan')
CHUNK = 2000


def _compact(clock: Any) -> Any:
    if not isinstance(clock, dict):
        return clock  # already compact
    entries: dict[tuple[Any, ...], list[str]] = {}
    for name, write in clock.items():
        entries.setdefault(tuple(write[:5]), []).append(name)
    return [[*write, *names] for write, names in entries.items()]


def _expanded(clock: Any) -> Any:
    if isinstance(clock, dict):
        return clock
    return {name: list(entry[:5]) for entry in clock or [] for name in entry[5:]}


def _rewrite(convert: Callable[[Any], Any]) -> None:
    connection = op.get_bind()
    for name in TABLES:
        table = sa.table(name, sa.column('id', sa.String), sa.column('clock', sa.JSON))
        last = ''
        while True:
            rows = connection.execute(sa.select(table.c.id, table.c.clock).where(table.c.id > last)
                                      .order_by(table.c.id).limit(CHUNK)).all()
            if not rows:
                break
            connection.execute(table.update().where(table.c.id == sa.bindparam('key'))
                               .values(clock=sa.bindparam('value')),
                               [{'key': row.id, 'value': convert(row.clock)} for row in rows])
            last = rows[-1].id


def upgrade() -> None:
    _rewrite(_compact)
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.create_index('ix_conflict_loser_device', ['loser_device'], unique=False)
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_scope_class_id')
            batch_op.create_index(f'ix_{name}_scope_class_id_rev', ['scope_class_id', 'rev'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.drop_index('ix_conflict_loser_device')
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_scope_class_id_rev')
            batch_op.create_index(f'ix_{name}_scope_class_id', ['scope_class_id'], unique=False)
    _rewrite(_expanded)
