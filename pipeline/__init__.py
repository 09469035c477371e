"""The TFX pipeline definition: `create_pipeline(config)` and its typed config.

No runner logic lives here; `local_runner.py` and `kubeflow_runner.py` only differ in how
they run what this package builds.
"""

from pipeline.config import PipelineConfig

__all__ = ["PipelineConfig", "create_pipeline"]


def create_pipeline(*args, **kwargs):
    from pipeline.pipeline import create_pipeline as _create

    return _create(*args, **kwargs)
