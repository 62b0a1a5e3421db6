"""periods removed from the calendar leave a copy (removed_period), so classroom machines pull them as deleted

Revision ID: a9d4e6f1b3c8
Revises: f7a3c9e2d5b1
Create Date: 2026-12-03 17:45:00

A period taken out of the calendar (`flask calendar` or the staff page, when none of its marks exist) was deleted
from the table, and a deleted row sends nothing to a pull: machines kept it. Its row still leaves `period`, and a
copy with a new rev stays in `removed_period`, which the pull sends as the period with `deleted: true`.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9d4e6f1b3c8'
down_revision = 'f7a3c9e2d5b1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('removed_period',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('year_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['year_id'], ['academic_year.id'],
                            name=op.f('fk_removed_period_year_id_academic_year')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_removed_period'))
    )
    with op.batch_alter_table('removed_period', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removed_period_rev'), ['rev'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('removed_period', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removed_period_rev'))
    op.drop_table('removed_period')
