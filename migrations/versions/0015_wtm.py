"""comment revisions: each edit keeps the words it replaced, for moderators

Revision ID: 0015_wtm
Revises: 0015_search
Create Date: 2026-12-08 05:11:45

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_wtm'
down_revision = '0015_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('comment_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_revisions_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['editor_id'], ['users.id'], name=op.f('fk_comment_revisions_editor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_revisions')),
    sa.UniqueConstraint('comment_id', 'number', name=op.f('uq_comment_revisions_comment_id'))
    )


def downgrade():
    op.drop_table('comment_revisions')
