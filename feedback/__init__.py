"""The feedback store: every prediction and correction, durable before the API answers, and the
export of corrections as new data spans. The gateway writes it; retraining reads and exports it;
neither imports the other (SQLAlchemy tables, Alembic migrations, `export.py`)."""

from feedback.export import ExportResult, export_feedback, pending_feedback
from feedback.store import FeedbackStore, InvalidFeedback, UnknownPrediction

__all__ = [
    "ExportResult",
    "FeedbackStore",
    "InvalidFeedback",
    "UnknownPrediction",
    "export_feedback",
    "pending_feedback",
]
