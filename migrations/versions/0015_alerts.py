"""moderator alerts: each moderator's digest frequency, the alerts waiting for
their digest, and webhooks in the outbox

Revision ID: 0015_alerts
Revises: 0014_locale
Create Date: 2026-12-09 09:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_alerts"
down_revision = "0014_locale"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "moderation_alerts", sa.String(length=16), nullable=False, server_default="daily"
            )
        )
        batch_op.create_index(batch_op.f("ix_users_role"), ["role"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=10), nullable=False, server_default="email")
        )
        batch_op.add_column(sa.Column("target_url", sa.String(length=2000), nullable=True))

    op.create_table(
        "moderator_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_moderator_alerts_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_moderator_alerts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderator_alerts")),
    )
    with op.batch_alter_table("moderator_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderator_alerts_comment_id"), ["comment_id"], unique=False
        )
        batch_op.create_index(
            "ix_moderator_alerts_due", ["queued_at", "user_id", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("moderator_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_moderator_alerts_due")
        batch_op.drop_index(batch_op.f("ix_moderator_alerts_comment_id"))
    op.drop_table("moderator_alerts")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("target_url")
        batch_op.drop_column("channel")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_role"))
        batch_op.drop_column("moderation_alerts")
