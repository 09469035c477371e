"""The feedback store: every prediction and correction, durable before the API answers, the
export of corrections as new data spans (exactly once), and the routing state every gateway
replica shares. The gateway writes it; retraining and `lexflow promote` read and write it;
neither imports the other (SQLAlchemy tables, Alembic migrations, `export.py`, `routing.py`)."""

from feedback.db import StoreUnavailable, is_unavailable
from feedback.export import ExportBusy, ExportResult, export_feedback, pending_feedback
from feedback.routing import RoutingChange, RoutingState
from feedback.store import FeedbackStore, InvalidFeedback, ShadowAgreement, UnknownPrediction, VersionHealth

__all__ = [
    "ExportBusy",
    "ExportResult",
    "FeedbackStore",
    "InvalidFeedback",
    "RoutingChange",
    "RoutingState",
    "ShadowAgreement",
    "StoreUnavailable",
    "UnknownPrediction",
    "VersionHealth",
    "export_feedback",
    "is_unavailable",
    "pending_feedback",
]
