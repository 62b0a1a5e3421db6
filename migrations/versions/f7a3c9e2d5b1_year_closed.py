"""a closed school year: academic_year.closed_at / closed_by, set by `year close --apply`

Revision ID: f7a3c9e2d5b1
Revises: e4b9d1c7a2f6
Create Date: 2026-12-02 19:30:00

While a year is closed its journal is archived: staff decisions on the hub (approving a held correction,
replaying a rejected op, choosing a conflict's other value) that would change one of its records are refused
(app/base/closed_years.py). `year reopen NAME` clears both. Existing years are open (NULL).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f7a3c9e2d5b1'
down_revision = 'e4b9d1c7a2f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('academic_year', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.String(length=60), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both engines (SQLite 3.35+): a batch's copy of the table would drop
    # academic_year itself, which the foreign keys of class, period and holiday forbid.
    op.drop_column('academic_year', 'closed_by')
    op.drop_column('academic_year', 'closed_at')
