"""Gallery scores: image_scores and image_presets, as the release that added them made them with create_all.

Revision ID: 0002_scores
Revises: 0001_images
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_scores"
down_revision = "0001_images"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_scores",
        sa.Column("image_id", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("background", sa.Float(), nullable=False),
        sa.Column("fill", sa.Float(), nullable=False),
        sa.Column("offset", sa.Float(), nullable=False),
        sa.Column("cut_off", sa.Boolean(), nullable=False),
        sa.Column("colour_distance", sa.Float(), nullable=True),
        sa.Column("sharpness", sa.Float(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("image_id"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_image_scores_score", "image_scores", ["score"])
    op.create_table(
        "image_presets",
        sa.Column("image_id", sa.String(32), nullable=False),
        sa.Column("preset", sa.String(64), nullable=False),
        sa.Column("passes", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("image_id", "preset"),
        sa.ForeignKeyConstraint(["image_id"], ["image_scores.image_id"], ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("image_presets")
    op.drop_table("image_scores")
