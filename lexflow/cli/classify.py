"""`lexflow classify`: classify documents (split into provisions) or a `text` CSV in bulk."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.errors import UserError
from lexflow.cli import options as opt
from lexflow.cli.common import err_console, fail
from lexflow.cli.model import served_model

if TYPE_CHECKING:
    from lexflow.runs.classify import Result

DEFAULT_BATCH_SIZE = 256


def classify(
    path: Path = typer.Argument(
        ..., help="A .txt/.docx/.pdf document, a directory of them, or a CSV with a `text` column (not split)."
    ),
    output_format: str = typer.Option("csv", "--format", help="csv or json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of standard output."),
    model_base_dir: opt.ModelBaseDir = None,
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    version: Optional[int] = typer.Option(None, help="Score with this version (default: what the gateway serves)."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, min=1, help="Texts per model call."),
    max_chars: int = typer.Option(2000, min=100, help="Longer provisions are split at sentence ends."),
    max_bytes: int = typer.Option(10 * 1024 * 1024, min=1, help="Larger documents are refused."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on standard error."),
) -> None:
    """Label every provision of the documents (or every CSV row) with the served model: CSV or JSON out."""
    from lexflow.runs import classify as bulk

    if output_format not in bulk.FORMATS:
        raise fail(f"--format {output_format!r}: use csv or json")
    # The gateway's settings (LEXFLOW_*): the CLI scores with the model the gateway serves.
    chosen = served_model(model_name, data_root, model_base_dir)
    settings = chosen.settings
    try:
        rows = bulk.rows(path, max_bytes=max_bytes, max_chars=max_chars)
        model = bulk.load_model(settings.model_base_dir, settings.model_name, version)
    except UserError as exc:
        raise fail(str(exc)) from None
    err_console.print(f"{chosen.describe(store=False)}, version {model.version}; reading {path}", soft_wrap=True)
    started = time.perf_counter()  # the rate below is of reading, splitting, scoring and writing
    columns = (TextColumn("classifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err_console, disable=not progress) as bar:
            task = bar.add_task("classify", total=None)
            try:
                total, batches = bulk.classify(rows, model.predict, batch_size, lambda n: bar.advance(task, n))
            except UserError as exc:
                raise fail(str(exc)) from None
            bar.update(task, total=total)
            _write(batches, output, output_format)
    finally:
        model.close()
    seconds = time.perf_counter() - started
    err_console.print(f"classified {total} texts in {seconds:.1f} s ({total / max(seconds, 1e-9):.0f}/s)")


def _write(batches: Iterator[list[Result]], output: Optional[Path], output_format: str) -> None:
    from lexflow.runs import classify as bulk

    try:
        with ExitStack() as stack:
            out = stack.enter_context(output.open("w", encoding="utf-8", newline="")) if output else sys.stdout
            bulk.write(out, batches, output_format)
    except OSError as exc:
        raise fail(f"{output}: cannot write it ({exc.strerror or exc})") from None
