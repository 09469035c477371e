"""lexflow's command line and the code it orchestrates.

- `cli/`: the `lexflow` command (Typer), one module per command group; the top layer.
- `runs/`: running the pipeline locally, preflight checks, schemas, retraining.
- `reports/`: what a person reads: the run summary, the notebooks' tables and drawings.
- `metadata/`: reading ML Metadata and TFMA results back (the only place that does).
"""


def __getattr__(name: str) -> object:
    """`lexflow.DriftReport`: TFX's Kubeflow entry point imports a custom artifact type by its type name
    (`tfx.orchestration.kubeflow.v2.compiler_utils.get_artifact_schema` writes TYPE_NAME as the schema
    title; the entry point imports that title), so "lexflow.DriftReport" must resolve here. Lazy: only
    a pipeline task pays for importing TFX."""
    if name == "DriftReport":
        from components.drift_check.spec import DriftReport

        return DriftReport
    raise AttributeError(f"module 'lexflow' has no attribute {name!r}")
