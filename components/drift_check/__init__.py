"""DriftCheck: compares each new span with the previous one (labels, text length, vocabulary).

The standard components validate a span against the schema; nothing compares consecutive spans
on what matters for text (TFX's DistributionValidator is not in tfx.v1 and works on features the
raw statistics do not have, such as token distributions). The report is recorded in MLMD; it
stops the run only when the config asks for it, since feedback is expected to shift the data.
"""

from components.drift_check.component import DriftCheck
from components.drift_check.drift import DriftResult, Measure, Sample, Thresholds, measure_drift
from components.drift_check.executor import DriftError
from components.drift_check.spec import DriftReport

__all__ = ["DriftCheck", "DriftError", "DriftReport", "DriftResult", "Measure", "Sample", "Thresholds", "measure_drift"]
