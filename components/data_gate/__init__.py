"""DataGate: stops the pipeline when ExampleValidator found anomalies.

ExampleValidator only records anomalies; nothing in the standard set acts on them. Transform
is made to depend on this component, so a bad span never reaches training.
"""

from components.data_gate.component import DataGate
from components.data_gate.executor import DataValidationError

__all__ = ["DataGate", "DataValidationError"]
