"""sso roles: remember which role a publisher's sign-on gave an account

Revision ID: 0013_wtc
Revises: 0012
Create Date: 2026-12-08 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_wtc'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sso_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granted_role', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('sso_identities', schema=None) as batch_op:
        batch_op.drop_column('granted_role')
