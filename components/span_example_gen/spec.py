"""ComponentSpec of SpanExampleGen."""

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

INPUT_BASE_KEY = "input_base"
INPUT_PATTERN_KEY = "input_pattern"
WINDOW_KEY = "window"
EVAL_PERCENT_KEY = "eval_percent"
VALIDATION_PERCENT_KEY = "validation_percent"
MIN_TRAIN_ROWS_KEY = "min_train_rows_per_label"
FINGERPRINT_KEY = "input_fingerprint"
EXAMPLES_KEY = "examples"
NEWEST_KEY = "newest_examples"
PREVIOUS_KEY = "previous_examples"


class SpanExampleGenSpec(ComponentSpec):
    PARAMETERS = {
        INPUT_BASE_KEY: ExecutionParameter(type=str),  # the data root: a local path or a bucket URI
        INPUT_PATTERN_KEY: ExecutionParameter(type=str),  # glob under it; "{SPAN}" marks the span number
        WINDOW_KEY: ExecutionParameter(type=int),  # newest N spans; 0 = all
        EVAL_PERCENT_KEY: ExecutionParameter(type=int),  # share of units held out for evaluation (unless given)
        VALIDATION_PERCENT_KEY: ExecutionParameter(type=int),  # share of the training side held out for validation
        MIN_TRAIN_ROWS_KEY: ExecutionParameter(type=int),
        # Set by the driver where one runs (LocalDagRunner): a fingerprint of the files read, so the
        # cache key changes when the data does. Where no driver runs (Kubeflow), caching is off.
        FINGERPRINT_KEY: ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        NEWEST_KEY: ChannelParameter(type=standard_artifacts.Examples),
        PREVIOUS_KEY: ChannelParameter(type=standard_artifacts.Examples),
    }
