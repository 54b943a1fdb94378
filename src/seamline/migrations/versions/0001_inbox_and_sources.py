"""Sources with hashed write keys, the append-only inbox, its partitions and progress.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 16:37:17.984482
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PARTITIONS = 64  # seamline.ingestion.wire.PARTITIONS when this revision was written


def upgrade() -> None:
    op.create_table(
        "inbox_partitions",
        sa.Column("partition", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("partition", name=op.f("pk_inbox_partitions")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("write_key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_hint", sa.String(length=16), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("rate_limit_per_second", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
        sa.UniqueConstraint("write_key_hash", name=op.f("uq_sources_write_key_hash")),
    )
    op.create_table(
        "inbox_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("anonymous_id", sa.String(length=255), nullable=True),
        sa.Column("partition", sa.SmallInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_inbox_events_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_events")),
        sa.UniqueConstraint("source_id", "message_id", name="uq_inbox_events_source_message"),
    )
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_events_pending",
            ["partition", "id"],
            unique=False,
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )

    op.create_table(
        "inbox_progress",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("processed", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("last_processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_inbox_progress_source_id_sources")),
        sa.PrimaryKeyConstraint("source_id", "type", name=op.f("pk_inbox_progress")),
    )
    op.bulk_insert(
        sa.table("inbox_partitions", sa.column("partition", sa.SmallInteger())),
        [{"partition": p} for p in range(PARTITIONS)],
    )


def downgrade() -> None:
    op.drop_table("inbox_progress")
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_inbox_events_pending",
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )

    op.drop_table("inbox_events")
    op.drop_table("sources")
    op.drop_table("inbox_partitions")
