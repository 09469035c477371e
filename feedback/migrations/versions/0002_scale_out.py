"""Scale-out: 64-bit versions and ids, export claims, correction history, shared routing state.

- Versions, spans and row ids become BIGINT on PostgreSQL (a version >= 2^31 made every
  classify fail). SQLite's INTEGER is already a signed 64-bit number, and a rebuilt table
  would have to drop `predictions` while `feedback` references it, so SQLite keeps its types.
- `feedback.export_id`: the export that claimed a row, set inside the export's transaction.
  Export used to select `id > max(last exported id)`, which skips rows whose (PostgreSQL
  sequence) ids committed out of order. Rows exported before this revision are attributed to
  the earliest export whose id range covers them; rows that the old rule skipped inside such a
  range cannot be told apart from exported ones and stay attributed to it.
- `feedback.superseded_by`: a later correction of the same prediction replaces an earlier
  one (the history is kept); backfilled from the existing rows.
- `routing_state` and `routing_changes`: routing shared by every replica, and its audit trail.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGINT_COLUMNS = {
    "predictions": ["model_version", "shadow_version"],
    "feedback": ["id", "model_version"],
    "exports": ["id", "span", "first_feedback_id", "last_feedback_id", "rows"],
}


def _widen_on_postgresql() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in BIGINT_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
    for table in ("feedback", "exports"):
        # A serial's sequence is `AS integer` too: widen it, or ids stop at 2^31 - 1.
        op.execute(
            f"DO $$ BEGIN EXECUTE 'ALTER SEQUENCE ' || pg_get_serial_sequence('{table}', 'id') || ' AS BIGINT'; END $$"
        )


def _int64() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _widen_on_postgresql()
    op.add_column("feedback", sa.Column("export_id", _int64(), nullable=True))
    op.add_column("feedback", sa.Column("superseded_by", _int64(), nullable=True))
    op.add_column("exports", sa.Column("claimed", _int64(), nullable=False, server_default="0"))
    op.create_index("ix_feedback_export_id", "feedback", ["export_id"])
    op.create_index("ix_feedback_superseded_by", "feedback", ["superseded_by"])
    op.create_index("ix_predictions_shadow_version", "predictions", ["shadow_version"])
    op.execute(
        "UPDATE feedback SET export_id = (SELECT min(e.id) FROM exports e"
        " WHERE feedback.id BETWEEN e.first_feedback_id AND e.last_feedback_id)"
    )
    op.execute("UPDATE exports SET claimed = rows")
    op.execute(
        "UPDATE feedback SET superseded_by = (SELECT min(later.id) FROM feedback later"
        " WHERE later.prediction_id = feedback.prediction_id AND later.id > feedback.id)"
        " WHERE prediction_id IS NOT NULL"
    )
    op.create_table(
        "routing_state",
        sa.Column("model_name", sa.String(128), primary_key=True),
        sa.Column("production", _int64(), nullable=True),
        sa.Column("staging", _int64(), nullable=True),
        sa.Column("canary_share", sa.Float(), nullable=False),
        sa.Column("shadow", _int64(), nullable=True),
        sa.Column("revision", _int64(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
    )
    op.create_table(
        "routing_changes",
        sa.Column("id", _int64(), primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("revision", _int64(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(256), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
    )
    op.create_index("ix_routing_changes_model_name", "routing_changes", ["model_name"])


def downgrade() -> None:
    op.drop_table("routing_changes")
    op.drop_table("routing_state")
    op.drop_index("ix_predictions_shadow_version", "predictions")
    op.drop_index("ix_feedback_superseded_by", "feedback")
    op.drop_index("ix_feedback_export_id", "feedback")
    with op.batch_alter_table("exports") as batch:
        batch.drop_column("claimed")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("superseded_by")
        batch.drop_column("export_id")
