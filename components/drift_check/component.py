"""DriftCheck component: `DriftCheck(examples=new_span, baseline_examples=previous_span, thresholds=...)`."""

from __future__ import annotations

import dataclasses
import json
from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec

from components.drift_check.drift import Thresholds
from components.drift_check.executor import Executor
from components.drift_check.spec import DriftCheckSpec, DriftReport


class DriftCheck(base_component.BaseComponent):
    SPEC_CLASS = DriftCheckSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        examples: types.BaseChannel,
        thresholds: Thresholds,
        baseline_examples: Optional[types.BaseChannel] = None,
        fail_on_drift: bool = False,
    ):
        super().__init__(
            spec=DriftCheckSpec(
                examples=examples,
                baseline_examples=baseline_examples,
                thresholds=json.dumps(dataclasses.asdict(thresholds), sort_keys=True),
                fail_on_drift=int(fail_on_drift),
                drift_report=types.Channel(type=DriftReport),
            )
        )
