"""ModelPusher component: same spec and arguments as `tfx.components.Pusher`."""

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from components.model_pusher.executor import Executor


class ModelPusher(tfx.components.Pusher):
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
