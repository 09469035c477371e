"""`lexflow schema draft`: a schema for a dataset, drafted from all of its rows and written for review."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.errors import UserError
from lexflow.cli.common import console, err_console, fail

app = typer.Typer(help="Curated schemas (schema/<dataset>/schema.pbtxt).", no_args_is_help=True)


@app.command("draft")
def draft(
    data_root: Path = typer.Argument(..., help="Dataset folder (spans or flat CSVs); every span is read."),
    out: Optional[Path] = typer.Option(None, help="Where to write. Default: schema/<dataset>/schema.pbtxt."),
    input_pattern: Optional[str] = typer.Option(None, help="Glob under the data root."),
    force: bool = typer.Option(False, help="Overwrite an existing schema."),
) -> None:
    """Draft a schema (text required, closed label domain, optional source/document/split) for review."""
    from core import workspace
    from core.spans import resolve_input_pattern
    from lexflow.runs.preflight import check_csv, typo_warnings
    from lexflow.runs.schemas import PROJECT_COLUMNS, curated_schema_path, dataset_files, draft_schema, write_schema

    data_root = workspace.resolve(data_root)
    if not data_root.is_dir():
        raise fail(f"data root {data_root} does not exist or is not a directory")
    files = dataset_files(data_root, input_pattern)
    if not files:
        raise fail(f"data root {data_root}: no CSV files match '{resolve_input_pattern(data_root, input_pattern)}'")
    target = workspace.resolve(out) if out else curated_schema_path(workspace.dataset_name(data_root))
    if target.exists() and not force:
        raise fail(f"{target} exists; pass --force to overwrite it")
    try:
        facts = [check_csv(path) for path in files]
        schema = draft_schema(files, facts)
    except UserError as exc:
        raise fail(str(exc)) from None
    for warning in typo_warnings(facts):
        err_console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    rows = sum(f.rows for f in facts)
    write_schema(
        schema,
        target,
        f"Drafted by `lexflow schema draft` from {rows} rows in {len(files)} files of {data_root}.\n"
        f"Review the label list, then commit it. Optional columns lexflow adds or reads: {', '.join(PROJECT_COLUMNS)}.",
    )
    labels = next(f.string_domain.value for f in schema.feature if f.name == "label")
    console.print(
        f"wrote {target}: {len(labels)} labels from {rows} rows in {len(files)} files; "
        f"{len(schema.feature)} features. Review it, then commit it.",
        soft_wrap=True,
    )
