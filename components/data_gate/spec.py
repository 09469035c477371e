"""ComponentSpec of DataGate."""

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

ANOMALIES_KEY = "anomalies"
IGNORED_ANOMALY_TYPES_KEY = "ignored_anomaly_types"


class DataGateSpec(ComponentSpec):
    PARAMETERS = {
        # JSON list of tensorflow_metadata AnomalyInfo.Type names to tolerate, e.g.
        # ["SCHEMA_NEW_COLUMN"]. Empty: every anomaly stops the run.
        IGNORED_ANOMALY_TYPES_KEY: ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies)}
    OUTPUTS = {}
