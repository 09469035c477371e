"""Checks of a run's inputs before any TFX work starts, each failing with one clear line.

The pipeline's own data gate (ExampleValidator + DataGate) catches data that does not match
the schema; these checks catch what would otherwise surface as a Beam stack trace: missing
folders, empty files, a CSV without a header we need, an unwritable output location.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sqlite3
from pathlib import Path

from core.errors import UserError
from core.spans import csv_files, resolve_input_pattern, window_files
from core.splits import check_data_splits
from pipeline.config import PipelineConfig

REQUIRED_COLUMNS = ("text", "label")


def check_csv(path: Path) -> None:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise UserError(f"{path}: empty CSV (no header row)")
            first = next(reader, None)
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise UserError(f"{path}: unreadable CSV ({exc})") from None
    columns = [c.strip() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise UserError(
            f"{path}: no {', '.join(repr(c) for c in missing)} column in the header "
            f"(found: {', '.join(columns) or 'nothing'})"
        )
    if first is None:
        raise UserError(f"{path}: no data rows under the header")


def check_writable_dir(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{what} {path} cannot be created: {exc.strerror or exc}") from None
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{what} {path} is not a writable directory")


def check_metadata_store(path: Path) -> None:
    """An existing MLMD store must be an SQLite file this process can write (TFX's own error names neither)."""
    if not path.exists():
        return
    if not path.is_file():
        raise UserError(f"metadata store {path} is not a file (give --metadata-path a SQLite file's path)")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10)) as db:
            db.execute("BEGIN IMMEDIATE")  # takes the write lock: fails on a read-only or non-SQLite file
            db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise UserError(f"metadata store {path} cannot be written: {exc}") from None


def check_run_inputs(config: PipelineConfig) -> list[Path]:
    """Validate the data root and output locations; return the CSV files of the latest span."""
    root = config.local_path("data_root")
    pipeline_root, serving_dir = config.local_path("pipeline_root"), config.local_path("serving_dir")
    if not root.exists():
        raise UserError(f"data root {root} does not exist")
    if not root.is_dir():
        raise UserError(f"data root {root} is not a directory")
    pattern = resolve_input_pattern(root, config.input_pattern)
    files = csv_files(root, pattern)
    if not files:
        raise UserError(f"data root {root}: no CSV files match '{pattern}'")
    for path in files:
        check_csv(path)
    check_data_splits(root, window_files(root, pattern, config.spans.window))  # split/document values
    check_writable_dir(pipeline_root, "pipeline root")
    check_writable_dir(config.metadata_path.parent, "metadata directory")
    check_metadata_store(config.metadata_path)
    check_writable_dir(serving_dir, "serving dir")
    return files
