"""The TFX pipeline definition: `create_pipeline(config)` and its typed config.

No runner logic lives here; `local_runner.py` and `kubeflow_runner.py` only differ in how
they run what this package builds.
"""

from typing import Any

from pipeline.config import PipelineConfig

__all__ = ["PipelineConfig", "create_pipeline"]


def create_pipeline(*args: Any, **kwargs: Any) -> Any:
    from pipeline.pipeline import create_pipeline as _create

    return _create(*args, **kwargs)
