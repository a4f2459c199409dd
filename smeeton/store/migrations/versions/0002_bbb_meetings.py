"""Meeting rules on rooms, and the BigBlueButton API's meetings and webhooks.

Revision ID: 0002
Revises: 0001
Created: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("options", sa.Text(), nullable=True))
    op.create_table(
        "bbb_meetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("meeting_id", sa.String(256), nullable=False),
        sa.Column(
            "room_id",
            sa.Integer(),
            sa.ForeignKey("rooms.id", ondelete="CASCADE", name="fk_bbb_room"),
            nullable=False,
        ),
        sa.Column("internal_id", sa.String(64), nullable=False),
        sa.Column("attendee_pw", sa.String(256), nullable=False),
        sa.Column("moderator_pw", sa.String(256), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("voice_bridge", sa.String(32), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.UniqueConstraint("meeting_id", name="uq_bbb_meetings_meeting_id"),
        sa.UniqueConstraint("room_id", name="uq_bbb_meetings_room_id"),
    )
    op.create_table(
        "bbb_hooks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("meeting_id", sa.String(256), nullable=True),
        sa.Column("raw_data", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bbb_hooks")
    op.drop_table("bbb_meetings")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("options")
