"""SpanExampleGen component: `SpanExampleGen(input_base=..., input_pattern="span-{SPAN}/*.csv", window=0)`.

Outputs Examples with three splits: `train`, `validation` (carved from the training side: the model
search and the temperature are chosen on it) and `eval` (the Evaluator's: only judges and blesses)."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts

from components.span_example_gen.driver import Driver
from components.span_example_gen.executor import Executor
from components.span_example_gen.spec import SpanExampleGenSpec


class SpanExampleGen(base_beam_component.BaseBeamComponent):
    SPEC_CLASS = SpanExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
    DRIVER_CLASS = Driver

    def __init__(
        self,
        input_base: str,
        input_pattern: str,
        window: int = 0,
        eval_percent: int = 20,
        validation_percent: int = 20,
        min_train_rows_per_label: int = 2,
    ):
        super().__init__(
            spec=SpanExampleGenSpec(
                input_base=input_base,
                input_pattern=input_pattern,
                window=window,
                eval_percent=eval_percent,
                validation_percent=validation_percent,
                min_train_rows_per_label=min_train_rows_per_label,
                examples=types.Channel(type=standard_artifacts.Examples),
                newest_examples=types.Channel(type=standard_artifacts.Examples),
                previous_examples=types.Channel(type=standard_artifacts.Examples),
            )
        )
