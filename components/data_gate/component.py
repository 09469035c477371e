"""DataGate component: `DataGate(anomalies=example_validator.outputs['anomalies'])`."""

from __future__ import annotations

import json
from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec

from components.data_gate.executor import Executor
from components.data_gate.spec import DataGateSpec


class DataGate(base_component.BaseComponent):
    SPEC_CLASS = DataGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, anomalies: types.BaseChannel, ignored_anomaly_types: Optional[list[str]] = None):
        super().__init__(
            spec=DataGateSpec(
                anomalies=anomalies,
                ignored_anomaly_types=json.dumps(sorted(ignored_anomaly_types or [])),
            )
        )
