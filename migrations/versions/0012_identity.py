"""identity: guests allowed per site and thread, external sign-in identities,
single-use links, deleted accounts, badges from publishers' sign-on, and the
compared form of names (users.display_key and handle_key, filled here for
every account)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:15:25.310134

"""
from alembic import op
import sqlalchemy as sa

from forum.markup import name_key


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spent_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spent_tokens')),
    sa.UniqueConstraint('purpose', 'jti', name=op.f('uq_spent_tokens_purpose'))
    )
    with op.batch_alter_table('spent_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spent_tokens_expires_at'), ['expires_at'], unique=False)

    op.create_table('external_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_external_identities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_identities')),
    sa.UniqueConstraint('provider', 'subject', name=op.f('uq_external_identities_provider'))
    )
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identities_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('embed_sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_guests', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('sso_roles', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_guests', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('badges', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('display_key', sa.String(length=50), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_users_display_key'), ['display_key'], unique=False)
        batch_op.add_column(sa.Column('handle_key', sa.String(length=50), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_users_handle_key'), ['handle_key'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_in_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_key'), ['key'], unique=False)

    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('display_name', sa.String), sa.column('display_key', sa.String),
                     sa.column('handle_key', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.username, users.c.display_name)).all()
    for user_id, username, display_name in rows:
        connection.execute(users.update().where(users.c.id == user_id).values(
            display_key=name_key(display_name), handle_key=name_key(username)))



def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('signed_in_at')

    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_key'))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_handle_key'))
        batch_op.drop_column('handle_key')
        batch_op.drop_index(batch_op.f('ix_users_display_key'))
        batch_op.drop_column('display_key')
        batch_op.drop_column('badges')
        batch_op.drop_column('deleted_at')

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('allow_guests')

    with op.batch_alter_table('embed_sites', schema=None) as batch_op:
        batch_op.drop_column('sso_roles')
        batch_op.drop_column('allow_guests')

    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identities_user_id'))

    op.drop_table('external_identities')
    with op.batch_alter_table('spent_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spent_tokens_expires_at'))

    op.drop_table('spent_tokens')
