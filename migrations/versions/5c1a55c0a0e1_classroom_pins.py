"""Classroom sign-in: a teacher's PIN hash, pulled by classroom machines.

Revision ID: 5c1a55c0a0e1
Revises: 7ae460b049cf
Create Date: 2026-12-02 03:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5c1a55c0a0e1'
down_revision = '7ae460b049cf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('teacher', schema=None) as batch_op:
        batch_op.drop_column('pin_hash')
