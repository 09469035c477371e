"""ProductionBaseline: the Evaluator's baseline is the model in production, found in the model base
directory (which every orchestrator's pods can read), not through a TFX resolver.

"In production" is the version the routing layer names `production` (its `routing.json` beside the
versions), else the newest pushed version. Only blessed models are ever pushed, so a refused
candidate never becomes a baseline. The production SavedModel is copied into this component's
Model artifact, so the Evaluator scores exactly the bytes that serve. No baseline is given when
nothing is in production yet (the first run blesses on absolute thresholds) or when the
production model's label set differs from the candidate's: then metrics are not comparable, and
the change is reported (and the Pusher refuses to publish it unless told to).
"""

from components.production_baseline.component import ProductionBaseline

__all__ = ["ProductionBaseline"]
