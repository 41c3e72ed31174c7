"""comment indexes: replies in order under their root; the moderation queue's author
records and reported count

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 11:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_root_id')
        batch_op.create_index('ix_comments_root_time', ['root_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_comments_author_status', ['author_id', 'status'], unique=False)
        batch_op.create_index('ix_comments_status_flags', ['status', 'open_flags'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_status_flags')
        batch_op.drop_index('ix_comments_author_status')
        batch_op.drop_index('ix_comments_root_time')
        batch_op.create_index('ix_comments_root_id', ['root_id'], unique=False)
