"""ComponentSpec and output artifact of DriftCheck."""

from tfx.types import artifact, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

EXAMPLES_KEY = "examples"
BASELINE_EXAMPLES_KEY = "baseline_examples"
REPORT_KEY = "drift_report"
THRESHOLDS_KEY = "thresholds"
FAIL_ON_DRIFT_KEY = "fail_on_drift"
REPORT_FILE = "drift.json"


class DriftReport(artifact.Artifact):
    """drift.json (see drift.DriftResult.to_dict) plus custom properties `drifted`, `span`,
    `baseline_span` and one per measure, so MLMD queries (lineage, retrain) need no file reads."""

    TYPE_NAME = "lexflow.DriftReport"


class DriftCheckSpec(ComponentSpec):
    PARAMETERS = {
        THRESHOLDS_KEY: ExecutionParameter(type=str),  # JSON of drift.Thresholds
        FAIL_ON_DRIFT_KEY: ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        # The previous span; absent on the first run, when there is nothing to compare with.
        BASELINE_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
    }
    OUTPUTS = {REPORT_KEY: ChannelParameter(type=DriftReport)}
