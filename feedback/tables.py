"""SQLAlchemy tables of the feedback store (SQLite by default, PostgreSQL in production).

Every integer a version, a span or a row id can reach is 64-bit (`Int64`): the Pusher names
versions by UNIX time, and a 32-bit column overflows in 2038 (or at once, for a version written
by hand). On SQLite the declared type stays INTEGER, which SQLite stores as a signed 64-bit
number and which keeps the primary keys rowid aliases (autoincrement); PostgreSQL gets BIGINT.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Int64 = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class PredictionRow(Base):
    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[int] = mapped_column(Int64, index=True)
    route: Mapped[str] = mapped_column(String(32))  # production / staging / pinned
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[Optional[str]] = mapped_column(Text, nullable=True)  # None when store_text is off
    label: Mapped[str] = mapped_column(String(256))
    scores: Mapped[dict] = mapped_column(JSON)
    shadow_version: Mapped[Optional[int]] = mapped_column(Int64, nullable=True, index=True)
    shadow_label: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    # The caller presented the API key (migration 0004): the review queue may keep to these.
    authenticated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The review console's document this prediction classified a provision of (migration 0005); null
    # for API predictions. Feedback exports write it as the `document` column (core/splits.py).
    document_id: Mapped[Optional[str]] = mapped_column(String(36), nullable=True, index=True)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    prediction_id: Mapped[Optional[str]] = mapped_column(ForeignKey("predictions.id"), nullable=True, index=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(256))  # the correct label, per the user
    predicted_label: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    model_version: Mapped[Optional[int]] = mapped_column(Int64, nullable=True, index=True)
    # The export that claimed this row (set in the export's own transaction): null = not exported yet.
    export_id: Mapped[Optional[int]] = mapped_column(Int64, nullable=True, index=True)
    # The later correction of the same prediction that replaced this one (the latest has none).
    superseded_by: Mapped[Optional[int]] = mapped_column(Int64, nullable=True, index=True)


class ExportRow(Base):
    """One feedback export: the span it wrote and how many rows it claimed and wrote.

    The rows themselves point at it (`FeedbackRow.export_id`); first/last_feedback_id are the
    smallest and largest claimed id, kept for the API (claimed ids need not be contiguous)."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    span: Mapped[int] = mapped_column(Int64)
    first_feedback_id: Mapped[int] = mapped_column(Int64)
    last_feedback_id: Mapped[int] = mapped_column(Int64)
    rows: Mapped[int] = mapped_column(Int64)
    path: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)
    claimed: Mapped[int] = mapped_column(Int64, default=0)  # rows claimed, superseded corrections included


class RoutingStateRow(Base):
    """Which versions answer, per model: one row, shared by every gateway replica."""

    __tablename__ = "routing_state"

    model_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    production: Mapped[Optional[int]] = mapped_column(Int64, nullable=True)  # null: the newest version
    staging: Mapped[Optional[int]] = mapped_column(Int64, nullable=True)
    canary_share: Mapped[float] = mapped_column(Float, default=0.0)
    shadow: Mapped[Optional[int]] = mapped_column(Int64, nullable=True)
    revision: Mapped[int] = mapped_column(Int64, default=0)  # +1 on every change: replicas poll it
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(256), default="")


class RoutingChangeRow(Base):
    """The audit trail: every routing change, what it was before and after, when, and from which client."""

    __tablename__ = "routing_changes"

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(128), index=True)
    revision: Mapped[int] = mapped_column(Int64)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(32))  # update / promote / rollback
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReviewClaimRow(Base):
    """A reviewer's hold on one prediction in the review queue, until `expires_at`.

    The primary key is the prediction: two reviewers (on any replica) inserting a claim for the
    same prediction conflict in the database, so no record is shown to two of them at once.
    An expired claim may be taken over; a skipped one stays skipped for its reviewer until then."""

    __tablename__ = "review_claims"

    prediction_id: Mapped[str] = mapped_column(ForeignKey("predictions.id"), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(64), index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    skipped: Mapped[bool] = mapped_column(default=False)


class ReviewDocumentRow(Base):
    """A contract classified in the review console: its provisions' predictions, in order."""

    __tablename__ = "review_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(256))
    # [{"prediction_id": ..., "heading": ...}] in document order
    provisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
