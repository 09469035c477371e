"""Run the lexflow pipeline locally: `python local_runner.py [--help]`.

Same as `lexflow run`: LocalDagRunner, Beam DirectRunner, MLMD in a SQLite file, the embedded
demo data unless `--data-root` says otherwise. The pipeline itself is `pipeline.create_pipeline`.
"""

import core.tf_env  # noqa: F401  (must precede TensorFlow)

import typer

from lexflow.cli.run import run

if __name__ == "__main__":
    typer.run(run)
