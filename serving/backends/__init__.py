"""Model backends: one interface, three implementations (in-process, TF Serving REST, gRPC)."""
from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion

__all__ = ["BackendError", "ModelBackend", "Prediction", "UnknownVersion"]
