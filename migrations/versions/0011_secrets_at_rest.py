"""secrets at rest: sign-on and hook secrets stored sealed (forum.secretbox), so
embed_sites.sso_secret widens to hold a sealed value

Runs in the app context of `flask db upgrade`: the values are sealed with the
key derived from this installation's SECRET_KEY (seal and unseal come from
forum.secretbox, whose "sealed1:" format stays readable for good). Values
already sealed are left alone, so a second run changes nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 20:00:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from forum import secretbox


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

embed_sites = sa.table(
    'embed_sites',
    sa.column('id', sa.Integer),
    sa.column('sso_secret', sa.String),
    sa.column('sso_secret_set_at', sa.DateTime(timezone=True)),
)
settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON))
SECRET_SETTINGS = ('hook_secret',)  # the settings of kind "secret" (forum.services.settings)


def upgrade():
    with op.batch_alter_table('embed_sites', schema=None) as batch_op:
        batch_op.alter_column('sso_secret',
               existing_type=sa.String(length=100),
               type_=sa.String(length=255),
               existing_nullable=True)

    key = current_app.secret_key
    connection = op.get_bind()
    sites = connection.execute(
        sa.select(embed_sites.c.id, embed_sites.c.sso_secret).where(
            embed_sites.c.sso_secret.is_not(None)
        )
    ).all()
    for site_id, secret in sites:
        if secret and not secretbox.is_sealed(secret):
            connection.execute(
                embed_sites.update()
                .where(embed_sites.c.id == site_id)
                .values(sso_secret=secretbox.seal(secret, key))
            )
    for name, value in _secret_settings(connection):
        if isinstance(value, str) and value and not secretbox.is_sealed(value):
            connection.execute(
                settings.update()
                .where(settings.c.key == name)
                .values(value=secretbox.seal(value, key))
            )


def downgrade():
    # Back to plain values; one this SECRET_KEY cannot open is dropped (it must
    # be set again either way).
    key = current_app.secret_key
    connection = op.get_bind()
    sites = connection.execute(
        sa.select(embed_sites.c.id, embed_sites.c.sso_secret).where(
            embed_sites.c.sso_secret.is_not(None)
        )
    ).all()
    for site_id, secret in sites:
        plain = _unsealed(secret, key)
        changes = {'sso_secret': plain} if plain else {'sso_secret': None, 'sso_secret_set_at': None}
        connection.execute(
            embed_sites.update().where(embed_sites.c.id == site_id).values(**changes)
        )
    for name, value in _secret_settings(connection):
        if not isinstance(value, str):
            continue
        plain = _unsealed(value, key)
        if plain:
            connection.execute(
                settings.update().where(settings.c.key == name).values(value=plain)
            )
        else:
            connection.execute(settings.delete().where(settings.c.key == name))

    with op.batch_alter_table('embed_sites', schema=None) as batch_op:
        batch_op.alter_column('sso_secret',
               existing_type=sa.String(length=255),
               type_=sa.String(length=100),
               existing_nullable=True)


def _secret_settings(connection):
    return connection.execute(
        sa.select(settings.c.key, settings.c.value).where(settings.c.key.in_(SECRET_SETTINGS))
    ).all()


def _unsealed(value, key):
    try:
        return secretbox.unseal(value, key)
    except secretbox.SecretUnreadable:
        return None
