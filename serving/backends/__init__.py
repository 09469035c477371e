"""Model backends: one interface (`base.ModelBackend`), three implementations, one factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion

if TYPE_CHECKING:
    from serving.settings import ServingSettings

__all__ = ["BackendError", "ModelBackend", "Prediction", "UnknownVersion", "build_backend"]


def build_backend(settings: ServingSettings) -> ModelBackend:
    """The backend the settings name; imported lazily (the in-process one loads TensorFlow)."""
    if settings.backend == "inprocess":
        from serving.backends.inprocess import InProcessBackend

        return InProcessBackend(
            settings.model_base_dir, settings.model_name, settings.poll_seconds, settings.keep_versions
        )
    if settings.backend == "rest":
        from serving.backends.tfserving_rest import TFServingRestBackend

        if not settings.tf_serving_url:
            raise ValueError("LEXFLOW_BACKEND=rest needs LEXFLOW_TF_SERVING_URL")
        return TFServingRestBackend(settings.tf_serving_url, settings.model_name)
    from serving.backends.tfserving_grpc import TFServingGrpcBackend

    if not settings.tf_serving_grpc:
        raise ValueError("LEXFLOW_BACKEND=grpc needs LEXFLOW_TF_SERVING_GRPC")
    return TFServingGrpcBackend(settings.tf_serving_grpc, settings.model_name)
