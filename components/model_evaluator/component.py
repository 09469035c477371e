"""ModelEvaluator component: same spec and arguments as `tfx.components.Evaluator`."""

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from components.model_evaluator.executor import Executor


class ModelEvaluator(tfx.components.Evaluator):
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
