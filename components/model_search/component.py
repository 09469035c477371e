"""ModelSearch component: same spec and arguments as `tfx.components.Tuner`."""

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from components.model_search.executor import Executor


class ModelSearch(tfx.components.Tuner):
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
