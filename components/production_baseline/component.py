"""ProductionBaseline component: `ProductionBaseline(model=trainer.outputs["model"], model_dir=...)`."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts

from components.production_baseline.executor import Executor
from components.production_baseline.spec import ProductionBaselineSpec


class ProductionBaseline(base_component.BaseComponent):
    SPEC_CLASS = ProductionBaselineSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model: types.BaseChannel, model_dir: str):
        super().__init__(
            spec=ProductionBaselineSpec(
                model=model,
                model_dir=model_dir,
                baseline_model=types.Channel(type=standard_artifacts.Model),
            )
        )
