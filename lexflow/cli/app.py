"""The `lexflow` Typer application: one sub-module per command group."""

from __future__ import annotations

import core.tf_env  # noqa: F401  (before anything imports TensorFlow)

import typer

from lexflow.cli import classify, compile, drift, lineage, retrain, routing, run, schema, serve

app = typer.Typer(
    help="lexflow: a TFX pipeline for legal-text classification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("run")(run.run)
app.command("retrain")(retrain.retrain)
app.command("lineage")(lineage.lineage)
app.command("drift")(drift.drift)
app.command("serve")(serve.serve)
app.command("promote")(routing.promote)
app.command("rollback")(routing.rollback)
app.command("routing")(routing.routing)
app.command("classify")(classify.classify)
app.command("compile")(compile.compile_for_kubeflow)
app.add_typer(schema.app, name="schema")


def _mount_datagen() -> None:
    try:
        from datagen.cli import app as datagen_app
    except ImportError:  # generator not installed: the rest of the CLI still works
        return
    app.add_typer(datagen_app, name="demo-data", help="Generate synthetic legal provisions (the demo dataset).")


_mount_datagen()


def main() -> None:
    app()
