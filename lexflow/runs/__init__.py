"""Running things: the pipeline locally (with preflight checks and schema resolution) and retraining."""
