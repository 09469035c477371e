"""`lexflow schema draft`: a TFDV-inferred schema for a dataset, written for review."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.errors import UserError
from lexflow.cli.common import console, fail

app = typer.Typer(help="Curated schemas (schema/<dataset>/schema.pbtxt).", no_args_is_help=True)


@app.command("draft")
def draft(
    data_root: Path = typer.Argument(..., help="Dataset folder (spans or flat CSVs)."),
    out: Optional[Path] = typer.Option(None, help="Where to write. Default: schema/<dataset>/schema.pbtxt."),
    input_pattern: Optional[str] = typer.Option(None, help="Glob under the data root."),
    force: bool = typer.Option(False, help="Overwrite an existing schema."),
) -> None:
    """Infer a schema with TFDV (text required, closed label domain) and write it for review."""
    from core import workspace
    from core.spans import csv_files, resolve_input_pattern
    from lexflow.runs.preflight import check_csv
    from lexflow.runs.schemas import curated_schema_path, draft_schema, write_schema

    data_root = workspace.resolve(data_root)
    if not data_root.is_dir():
        raise fail(f"data root {data_root} does not exist or is not a directory")
    pattern = resolve_input_pattern(data_root, input_pattern)
    files = csv_files(data_root, pattern)
    if not files:
        raise fail(f"data root {data_root}: no CSV files match '{pattern}'")
    target = workspace.resolve(out) if out else curated_schema_path(data_root.name)
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
