"""staff language: the interface language each account chose (Russian unless it chose English)

Revision ID: 5a1e7c0d2b41
Revises: 47390f45e509
Create Date: 2026-12-02 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5a1e7c0d2b41'
down_revision = '47390f45e509'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='ru', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('language')
