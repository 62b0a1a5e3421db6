"""students' own links (family_link.student_id, student_week_view); the school's calendar edits (academic_year); invitation codes

Revision ID: b7c4e2a9d310
Revises: 5a1e7c0d2b41
Create Date: 2026-12-02 06:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7c4e2a9d310'
down_revision = '5a1e7c0d2b41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('academic_year', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_edited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('calendar_edited_by', sa.String(length=60), nullable=True))
    with op.batch_alter_table('family_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('student_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_family_link_student_id'), ['student_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_family_link_student_id_student'), 'student', ['student_id'],
                                    ['id'], ondelete='CASCADE')
    op.create_table(
        'student_week_view',
        sa.Column('student_id', sa.String(length=36), nullable=False),
        sa.Column('week', sa.String(length=8), nullable=False),
        sa.Column('views', sa.Integer(), nullable=False),
        sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['student_id'], ['student.id'], name=op.f('fk_student_week_view_student_id_student'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('student_id', 'week', name=op.f('pk_student_week_view')),
    )
    op.create_table(
        'invitation_code',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('link_id', sa.String(length=36), nullable=False),
        sa.Column('created_by', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['link_id'], ['family_link.id'], name=op.f('fk_invitation_code_link_id_family_link'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_invitation_code_code_hash')),
    )
    with op.batch_alter_table('invitation_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_code_link_id'), ['link_id'], unique=False)


def downgrade() -> None:
    op.drop_table('invitation_code')
    op.drop_table('student_week_view')
    with op.batch_alter_table('family_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_family_link_student_id_student'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_family_link_student_id'))
        batch_op.drop_column('student_id')
    with op.batch_alter_table('academic_year', schema=None) as batch_op:
        batch_op.drop_column('calendar_edited_by')
        batch_op.drop_column('calendar_edited_at')
