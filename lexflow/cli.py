"""`lexflow` command line: run the pipeline locally, draft schemas, make demo data."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from trainer import tf_env  # noqa: F401  (before anything imports TensorFlow)

import typer
from pydantic import ValidationError
from rich.console import Console

from lexflow.errors import UserError

app = typer.Typer(help="lexflow: a TFX pipeline for legal-text classification.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
schema_app = typer.Typer(help="Curated schemas (schema/<dataset>/schema.pbtxt).", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> "typer.Exit":
    err_console.print(f"[red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def load_config(config_file: Optional[Path], **overrides):
    from pipeline.config import PipelineConfig

    try:
        return PipelineConfig.load(config_file, **overrides)
    except (FileNotFoundError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise fail(f"config: {where}: {first['msg']}") from None
        raise fail(str(exc)) from None


def run(
    data_root: Optional[Path] = typer.Option(None, help="Folder of spans (span-<N>/*.csv) or of CSVs. Default: data/demo."),
    pipeline_root: Optional[Path] = typer.Option(None, help="Where TFX writes artifacts. Default: artifacts/pipeline."),
    serving_dir: Optional[Path] = typer.Option(None, help="Model base dir; pushes go to <dir>/<model-name>/<version>/. Default: artifacts/serving."),
    metadata_path: Optional[Path] = typer.Option(None, help="MLMD SQLite file. Default: artifacts/metadata.sqlite."),
    schema: Optional[Path] = typer.Option(None, help="Schema to import. Default: schema/<dataset>/schema.pbtxt, else a TFDV draft."),
    input_pattern: Optional[str] = typer.Option(None, help="Glob under the data root, e.g. 'train.csv'."),
    model_name: Optional[str] = typer.Option(None, help="Model name under the serving dir."),
    train_steps: Optional[int] = typer.Option(None, help="Training steps."),
    eval_steps: Optional[int] = typer.Option(None, help="Validation steps during training."),
    min_accuracy: Optional[float] = typer.Option(None, help="Blessing: absolute accuracy threshold."),
    min_macro_f1: Optional[float] = typer.Option(None, help="Blessing: absolute macro-F1 threshold."),
    beam_arg: List[str] = typer.Option([], help="Extra Beam pipeline argument (repeatable)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Re-run every component."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="YAML/JSON file with PipelineConfig fields."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show TFX/Beam/TF logs."),
) -> None:
    """Run the whole pipeline locally (LocalDagRunner, Beam DirectRunner, SQLite MLMD)."""
    from lexflow.local_run import PipelineFailed, quiet_logs, run_local
    from lexflow.run_summary import render

    config = load_config(
        config_file,
        data_root=data_root, pipeline_root=pipeline_root, serving_dir=serving_dir, metadata_path=metadata_path,
        schema_path=schema, input_pattern=input_pattern, model_name=model_name,
        **{"train.train_steps": train_steps, "train.eval_steps": eval_steps,
           "thresholds.min_accuracy": min_accuracy, "thresholds.min_macro_f1": min_macro_f1,
           "beam.extra_args": beam_arg or None, "enable_cache": False if no_cache else None},
    )
    quiet_logs(verbose)
    try:
        with console.status("running the lexflow pipeline (ExampleGen -> ... -> Pusher)"):
            summary = run_local(config, on_status=console.print)
    except UserError as exc:
        raise fail(str(exc)) from None
    except PipelineFailed as exc:
        if exc.summary is not None and exc.summary.components:
            render(exc.summary, console)
        raise fail(str(exc), code=1) from None
    render(summary, console)


app.command("run")(run)


@app.command("retrain")
def retrain_command(
    data_root: Optional[Path] = typer.Option(None, help="Span folder the feedback is exported into (span-<N>/). Default: data/demo."),
    pipeline_root: Optional[Path] = typer.Option(None, help="Where TFX writes artifacts. Default: artifacts/pipeline."),
    serving_dir: Optional[Path] = typer.Option(None, help="Model base dir the gateway serves. Default: artifacts/serving."),
    metadata_path: Optional[Path] = typer.Option(None, help="MLMD SQLite file. Default: artifacts/metadata.sqlite."),
    database_url: Optional[str] = typer.Option(None, help="Feedback store (SQLAlchemy URL). Default: LEXFLOW_DATABASE_URL / the gateway's default."),
    force: bool = typer.Option(False, "--force", help="Export and retrain even if no trigger fires."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only evaluate and print the policy."),
    watch_mode: bool = typer.Option(False, "--watch", help="Keep checking every retrain.watch_interval_seconds."),
    interval: Optional[float] = typer.Option(None, help="Seconds between checks in --watch mode (overrides the config)."),
    max_cycles: Optional[int] = typer.Option(None, help="Stop --watch after this many checks."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="YAML/JSON file with PipelineConfig fields (retrain policy under `retrain`)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show TFX/Beam/TF logs."),
) -> None:
    """Evaluate the retrain policy; if it fires, export feedback as a new span and run the pipeline."""
    from lexflow import retrain as rt
    from lexflow.local_run import quiet_logs
    from serving.settings import ServingSettings
    from serving.store import FeedbackStore

    config = load_config(
        config_file, data_root=data_root, pipeline_root=pipeline_root, serving_dir=serving_dir,
        metadata_path=metadata_path, **{"retrain.watch_interval_seconds": interval},
    )
    quiet_logs(verbose)
    try:
        url = database_url or ServingSettings().database_url
        store = FeedbackStore(url)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"settings: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    except Exception as exc:  # SQLAlchemy: bad URL, unreachable server
        raise fail(f"feedback store: cannot open it ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    failed = False

    def show(report: "rt.RetrainReport") -> None:
        nonlocal failed
        render_retrain(report)
        failed = failed or not report.ok

    try:
        if watch_mode:
            console.print(f"watching: checking the retrain policy every {config.retrain.watch_interval_seconds:g} s (Ctrl-C stops)")
            rt.watch(config, store, show, max_cycles=max_cycles, on_status=console.print)
        else:
            show(rt.retrain(config, store, force=force, dry_run=dry_run, on_status=console.print))
    except UserError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        console.print("stopped")
    if failed:
        raise typer.Exit(1)


def render_retrain(report) -> None:
    from lexflow.run_summary import render

    decision = report.decision
    console.print("retrain policy: " + ("[yellow]retrain[/] (" + "; ".join(decision.reasons) + ")"
                                        if decision.retrain else "no trigger fired"), soft_wrap=True)
    for check in decision.checks:
        console.print(f"  - {check}", soft_wrap=True)
    for note in report.notes:
        console.print(f"  note: {note}")
    if report.exported_span is not None:
        console.print(f"exported {report.exported_rows} feedback rows as span {report.exported_span}")
    if report.summary is not None and report.summary.components:
        render(report.summary, console)
        if report.summary.blessed is False:
            console.print("[yellow]the new model did not pass the Evaluator; the served version is unchanged[/]")
    if report.error:
        err_console.print(f"[red]error:[/] {report.error}", soft_wrap=True)


@schema_app.command("draft")
def schema_draft(
    data_root: Path = typer.Argument(..., help="Dataset folder (spans or flat CSVs)."),
    out: Optional[Path] = typer.Option(None, help="Where to write. Default: schema/<dataset>/schema.pbtxt."),
    input_pattern: Optional[str] = typer.Option(None, help="Glob under the data root."),
    force: bool = typer.Option(False, help="Overwrite an existing schema."),
) -> None:
    """Infer a schema with TFDV (text required, closed label domain) and write it for review."""
    from lexflow.preflight import check_csv
    from lexflow.schema_tools import curated_schema_path, draft_schema, write_schema
    from pipeline.data_layout import csv_files, resolve_input_pattern

    data_root = data_root.absolute()
    if not data_root.is_dir():
        raise fail(f"data root {data_root} does not exist or is not a directory")
    pattern = resolve_input_pattern(data_root, input_pattern)
    files = csv_files(data_root, pattern)
    if not files:
        raise fail(f"data root {data_root}: no CSV files match '{pattern}'")
    target = out or curated_schema_path(data_root.name)
    if target.exists() and not force:
        raise fail(f"{target} exists; pass --force to overwrite it")
    try:
        for path in files:
            check_csv(path)
        schema = draft_schema(files)
    except UserError as exc:
        raise fail(str(exc)) from None
    write_schema(schema, target)
    labels = next(f.string_domain.value for f in schema.feature if f.name == "label")
    console.print(f"wrote {target}: {len(schema.feature)} features, {len(labels)} labels. Review it, then commit it.")


@app.command("lineage")
def lineage(
    version: Optional[str] = typer.Argument(None, help="Served version (default: the newest pushed)."),
    span: Optional[int] = typer.Option(None, help="Instead: which versions did this data span feed?"),
    metadata_path: Path = typer.Option(Path("artifacts/metadata.sqlite"), help="MLMD SQLite file."),
) -> None:
    """Trace a served version to its spans, schema, transform graph, trainer run and evaluation."""
    from lexflow import lineage as lin
    from lexflow.metadata import open_store

    try:
        store = open_store(metadata_path.absolute())
        if span is not None:
            versions = lin.versions_fed_by_span(store, span)
            console.print(f"span {span} fed versions: {', '.join(versions) or 'none'}")
            return
        info = lin.version_lineage(store, version)
    except UserError as exc:
        raise fail(str(exc)) from None
    console.print(f"version {info.version}  (served from {info.served_path})")
    console.print(f"  model            {info.model_uri}  (Trainer execution {info.trainer_execution})")
    console.print(f"  transform graph  {info.transform_graph_uri}")
    console.print(f"  schema           {info.schema_uri}")
    console.print(f"  data spans       {', '.join(map(str, info.spans))}  ({'; '.join(info.examples_uris)})")
    console.print(f"  evaluation       {info.evaluation_uri}  blessed={info.blessed}")
    console.print(f"  baseline model   {info.baseline_model_uri or 'none (first blessed model)'}")
    for span_number, summary in sorted(info.drift.items()):
        console.print(f"  drift, span {span_number:<4} {summary}", soft_wrap=True)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 in a container)."),
    port: int = typer.Option(8080, help="HTTP port."),
    model_base_dir: Optional[Path] = typer.Option(None, help="Overrides LEXFLOW_MODEL_BASE_DIR (default artifacts/serving)."),
    database_url: Optional[str] = typer.Option(None, help="Overrides LEXFLOW_DATABASE_URL."),
) -> None:
    """Start the FastAPI gateway (settings from LEXFLOW_* environment variables)."""
    import uvicorn

    from serving.app import create_app
    from serving.settings import ServingSettings

    overrides = {k: v for k, v in {"model_base_dir": model_base_dir, "database_url": database_url}.items() if v is not None}
    try:
        settings = ServingSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"settings: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def _mount_datagen() -> None:
    try:
        from datagen.cli import app as datagen_app
    except ImportError:  # generator not installed: the rest of the CLI still works
        return
    app.add_typer(datagen_app, name="demo-data", help="Generate synthetic legal provisions (the demo dataset).")


_mount_datagen()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
