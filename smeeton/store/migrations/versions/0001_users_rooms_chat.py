"""Host accounts, rooms and their public chat history.

Revision ID: 0001
Revises:
Created: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("access_code", sa.String(64), nullable=True),
        sa.Column("lobby", sa.Boolean(), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_rooms_owner"),
            nullable=True,
        ),
        sa.Column("moderator_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("slug", name="uq_rooms_slug"),
    )
    op.create_index("ix_rooms_owner_id", "rooms", ["owner_id"])
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "room_id",
            sa.Integer(),
            sa.ForeignKey("rooms.id", ondelete="CASCADE", name="fk_chat_room"),
            nullable=False,
        ),
        sa.Column("from_id", sa.String(64), nullable=False),
        sa.Column("from_name", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
    )
    op.create_index("ix_chat_messages_room_id", "chat_messages", ["room_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_messages_room_id", "chat_messages")
    op.drop_table("chat_messages")
    op.drop_index("ix_rooms_owner_id", "rooms")
    op.drop_table("rooms")
    op.drop_table("users")
