"""ComponentSpec of ProductionBaseline."""

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

MODEL_KEY = "model"
BASELINE_KEY = "baseline_model"
MODEL_DIR_KEY = "model_dir"


class ProductionBaselineSpec(ComponentSpec):
    PARAMETERS = {MODEL_DIR_KEY: ExecutionParameter(type=str)}  # <model_base_dir>/<model_name>
    INPUTS = {MODEL_KEY: ChannelParameter(type=standard_artifacts.Model)}  # the candidate
    OUTPUTS = {BASELINE_KEY: ChannelParameter(type=standard_artifacts.Model)}
