"""holidays removed on the hub keep their row (holiday.removed_at), so classroom machines pull them as deleted

Revision ID: e4b9d1c7a2f6
Revises: c3f1a8d2e5b7
Create Date: 2026-12-02 19:00:00

A holiday the administrator cleared on the calendar page was deleted from the table, and a deleted row sends
nothing to a pull: machines kept it. Now the row stays with `removed_at` set and a new rev, and the pull sends it
once more with `deleted: true` (as a removed timetable change). Existing rows are all in force (NULL).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b9d1c7a2f6'
down_revision = 'c3f1a8d2e5b7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('holiday', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM holiday WHERE removed_at IS NOT NULL")  # gone, as they were before this revision
    with op.batch_alter_table('holiday', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
