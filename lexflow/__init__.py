"""lexflow's command line and the code it orchestrates.

- `cli/`: the `lexflow` command (Typer), one module per command group; the top layer.
- `runs/`: running the pipeline locally, preflight checks, schemas, retraining.
- `reports/`: what a person reads: the run summary, the notebooks' tables and drawings.
- `metadata/`: reading ML Metadata and TFMA results back (the only place that does).
"""
