"""Review console: queue claims (one reviewer per record at a time) and reviewed documents.

- `review_claims`: the prediction is the primary key, so two reviewers claiming one record
  conflict in the database whichever replica they use; `expires_at` lets an abandoned claim
  be taken over.
- `review_documents`: a contract classified in the console, its provisions' prediction ids in
  order, for the page's link and its CSV/JSON export.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_claims",
        sa.Column("prediction_id", sa.String(36), sa.ForeignKey("predictions.id"), primary_key=True),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_review_claims_reviewer", "review_claims", ["reviewer"])
    op.create_index("ix_review_claims_expires_at", "review_claims", ["expires_at"])
    op.create_table(
        "review_documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("provisions", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("review_documents")
    op.drop_index("ix_review_claims_expires_at", "review_claims")
    op.drop_index("ix_review_claims_reviewer", "review_claims")
    op.drop_table("review_claims")
