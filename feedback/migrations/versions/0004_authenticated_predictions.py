"""Predictions record whether the caller presented the API key.

So the review console's queue can keep to authenticated traffic (LEXFLOW_REVIEW_QUEUE_TRAFFIC):
anonymous callers cannot fill the reviewers' queue. Existing rows count as anonymous (false); on
PostgreSQL 11+ a column with a constant default is added without rewriting the table.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("predictions", sa.Column("authenticated", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("authenticated")
