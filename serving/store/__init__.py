"""The feedback store: every prediction and every correction, durable before the API answers."""
from serving.store.repository import FeedbackStore, UnknownPrediction

__all__ = ["FeedbackStore", "UnknownPrediction"]
