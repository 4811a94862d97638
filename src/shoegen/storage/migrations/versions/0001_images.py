"""The images table, as the releases before gallery scores made it with create_all.

Revision ID: 0001_images
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_images"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Lengths written out rather than imported: a revision is frozen, whatever the constants become later.
    op.create_table(
        "images",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("negative_prompt", sa.Text(), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("loras", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("guidance_scale", sa.Float(), nullable=False),
        sa.Column("sampler", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("strength", sa.Float(), nullable=True),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_images_model", "images", ["model"])
    op.create_index("ix_images_created_at", "images", ["created_at"])
    op.create_index("ix_images_job_id", "images", ["job_id"])


def downgrade() -> None:
    op.drop_table("images")
