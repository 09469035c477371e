"""Checks of a run's inputs before any TFX work starts (and before TensorFlow loads), each failing with
one clear line.

The pipeline's own data gate (ExampleValidator + DataGate) catches data that does not match
the schema; these checks catch what would otherwise surface as a Beam stack trace: missing
folders, empty files, a CSV without a header we need, bytes that are not UTF-8 anywhere in a file,
a row with more cells than the header, an unwritable output location. They also warn about
labels that look like typos of another label (one row each): a drafted schema would make them
classes of their own.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError
from core.spans import resolve_input_pattern, window_files
from core.splits import check_data_splits
from pipeline.config import PipelineConfig

REQUIRED_COLUMNS = ("text", "label")
UTF8_BOM = b"\xef\xbb\xbf"
# difflib's ratio for "looks like a typo of": 'goverming law' vs 'governing law' is 0.92; two real
# labels that share a word ('payment terms' vs 'payment') stay below.
TYPO_SIMILARITY = 0.85


@dataclass
class CsvFacts:
    """What a whole CSV file holds: its rows and labels, with the line where each label first appears."""

    path: Path
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    first_line: dict[str, int] = field(default_factory=dict)


def read_text(path: Path) -> str:
    """The whole file as UTF-8 (a leading BOM is dropped); a bad byte is named with its line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        body = exc.object  # after the BOM, if any: the offsets below are relative to it
        line = body[: exc.start].count(b"\n") + 1
        byte = body[exc.start : exc.start + 1].hex()
        raise UserError(
            f"{path}:{line}: not UTF-8 (byte 0x{byte}, {exc.reason}); save the file as UTF-8 "
            "(a byte like this usually means Latin-1 or Windows-1252)"
        ) from None


def check_csv(path: Path) -> CsvFacts:
    """Read the whole file as the pipeline will: header with `text` and `label`, at least one row,
    no row longer than the header."""
    facts = CsvFacts(path)
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise UserError(f"{path}: empty CSV (no header row)")
        columns = facts.columns = [c.strip() for c in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise UserError(
                f"{path}: no {', '.join(repr(c) for c in missing)} column in the header "
                f"(found: {', '.join(columns) or 'nothing'})"
            )
        label = columns.index("label")
        for cells in reader:
            if not cells:
                continue
            if len(cells) > len(columns):
                raise UserError(
                    f"{path}:{reader.line_num}: {len(cells)} cells for {len(columns)} columns "
                    "(quote a value that holds a comma)"
                )
            facts.rows += 1
            value = cells[label] if label < len(cells) else ""
            if value:
                facts.labels[value] += 1
                facts.first_line.setdefault(value, reader.line_num)
    except csv.Error as exc:
        raise UserError(f"{path}:{reader.line_num}: unreadable CSV ({exc})") from None
    if facts.rows == 0:
        raise UserError(f"{path}: no data rows under the header")
    return facts


def typo_warnings(files: list[CsvFacts]) -> list[str]:
    """Labels with a single row that look like another label (difflib, case-insensitive)."""
    counts: Counter[str] = Counter()
    where: dict[str, str] = {}
    for facts in files:
        counts.update(facts.labels)
        for label, line in facts.first_line.items():
            where.setdefault(label, f"{facts.path}:{line}")
    common = {label.casefold(): label for label, n in counts.items() if n > 1}
    warnings = []
    for label, n in sorted(counts.items()):
        if n != 1:
            continue
        close = difflib.get_close_matches(label.casefold(), list(common), n=1, cutoff=TYPO_SIMILARITY)
        if close:
            other = common[close[0]]
            warnings.append(
                f"label '{label}' has a single row ({where[label]}) and looks like a typo of '{other}' "
                f"({counts[other]} rows): fix it, or it becomes a class of its own"
            )
    return warnings


def run_files(config: PipelineConfig) -> list[Path]:
    """Every CSV the run's ExampleGen reads: the window of spans and the span before it (DriftCheck's
    baseline), or every matching file of an unspanned data root, with their train/ and eval/ folders."""
    root = config.local_path("data_root")
    return window_files(root, resolve_input_pattern(root, config.input_pattern), config.spans.window)


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


def check_run_inputs(config: PipelineConfig, outputs: bool = True) -> list[str]:
    """Validate the data root (every file the run reads, in full) and, with `outputs`, the output
    locations; return warnings worth printing (labels that look like typos)."""
    root = config.local_path("data_root")
    pipeline_root, model_base_dir = config.local_path("pipeline_root"), config.local_path("model_base_dir")
    if not root.exists():
        raise UserError(f"data root {root} does not exist")
    if not root.is_dir():
        raise UserError(f"data root {root} is not a directory")
    files = run_files(config)
    if not files:
        raise UserError(f"data root {root}: no CSV files match '{resolve_input_pattern(root, config.input_pattern)}'")
    facts = [check_csv(path) for path in files]
    check_data_splits(root, files)  # split/document values (core/splits.py)
    if not outputs:
        return typo_warnings(facts)
    check_writable_dir(pipeline_root, "pipeline root")
    check_writable_dir(config.metadata_path.parent, "metadata directory")
    check_metadata_store(config.metadata_path)
    check_writable_dir(model_base_dir, "model base dir")
    return typo_warnings(facts)
