"""Predictions remember the reviewed document they came from, so feedback exports keep it.

- `predictions.document_id`: the review console's document (`review_documents.id`) whose provision
  the prediction classified; null for predictions made through the API. The feedback export writes
  it as the span's `document` column, so ExampleGen keeps a document's rows in one split.
  Backfilled from each stored document's provision list.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("predictions", sa.Column("document_id", sa.String(36), nullable=True))
    op.create_index("ix_predictions_document_id", "predictions", ["document_id"])
    documents = sa.table("review_documents", sa.column("id", sa.String(36)), sa.column("provisions", sa.JSON()))
    predictions = sa.table("predictions", sa.column("id", sa.String(36)), sa.column("document_id", sa.String(36)))
    connection = op.get_bind()
    for document_id, provisions in connection.execute(sa.select(documents.c.id, documents.c.provisions)).all():
        ids = [p["prediction_id"] for p in provisions or [] if isinstance(p, dict) and p.get("prediction_id")]
        if ids:
            connection.execute(sa.update(predictions).where(predictions.c.id.in_(ids)).values(document_id=document_id))


def downgrade() -> None:
    op.drop_index("ix_predictions_document_id", "predictions")
    op.drop_column("predictions", "document_id")
