"""Compile the lexflow pipeline for Kubeflow Pipelines: `python kubeflow_runner.py --image IMAGE ... [--help]`.

The same command as `lexflow compile` (lexflow/cli/compile.py), kept as the documented entry point.
"""

import core.tf_env  # noqa: F401  (must precede TensorFlow)

import typer

from lexflow.cli.compile import compile_for_kubeflow
from lexflow.runs.kubeflow.compile import IMAGE_PROJECT_ROOT

__all__ = ["IMAGE_PROJECT_ROOT", "app"]

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command(help=compile_for_kubeflow.__doc__)(compile_for_kubeflow)

if __name__ == "__main__":
    app()
