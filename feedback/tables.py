"""SQLAlchemy tables of the feedback store (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class PredictionRow(Base):
    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[int] = mapped_column(Integer, index=True)
    route: Mapped[str] = mapped_column(String(32))  # production / staging / pinned
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[Optional[str]] = mapped_column(Text, nullable=True)  # None when store_text is off
    label: Mapped[str] = mapped_column(String(256))
    scores: Mapped[dict] = mapped_column(JSON)
    shadow_version: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    shadow_label: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    prediction_id: Mapped[Optional[str]] = mapped_column(ForeignKey("predictions.id"), nullable=True, index=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(256))  # the correct label, per the user
    predicted_label: Mapped[Optional[str]] = mapped_column(String(256), nullable=True)
    model_version: Mapped[Optional[int]] = mapped_column(Integer, nullable=True, index=True)


class ExportRow(Base):
    """One feedback export: the span it wrote and the feedback ids it covered."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    span: Mapped[int] = mapped_column(Integer)
    first_feedback_id: Mapped[int] = mapped_column(Integer)
    last_feedback_id: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)


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
