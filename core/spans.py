"""The span layout of a data root, defined once for the pipeline, the feedback export and retraining.

A data root holds one folder per span: `span-0/` the corpus, `span-1/`, `span-2/`, ... feedback
exports, each with CSV files `text,label[,source]`. A flat folder of CSVs is one unspanned input.
A span (or a flat data root) may also hold `train/` and `eval/` folders of CSVs: the user's own
training and evaluation data (core/splits.py); their files belong to the span like the others.
The functions that take a `Path` work on the local file system; `span_of_path` is pure, so code that
lists an object store (the pipeline's ingestion in a Kubeflow pod) applies the same convention.
"""

from __future__ import annotations

import re
from pathlib import Path

SPAN_DIR = "span-{span}"
SPAN_PATTERN = "span-{SPAN}/*.csv"
FLAT_PATTERN = "*.csv"
SPLIT_FOLDERS = ("train", "eval")  # core/splits.py gives them their meaning
_SPAN_DIR_RE = re.compile(r"^span-(\d+)$")


def span_dir(data_root: Path, span: int) -> Path:
    return Path(data_root) / SPAN_DIR.format(span=span)


def resolve_input_pattern(data_root: Path, explicit: str | None = None) -> str:
    """The glob ExampleGen reads: `explicit`, else the span layout if span folders exist, else flat."""
    if explicit:
        return explicit
    if any(p.is_dir() for p in Path(data_root).glob("span-*")):
        return SPAN_PATTERN
    return FLAT_PATTERN


def with_split_folders(pattern: str) -> list[str]:
    """`pattern` and the same pattern inside each split folder: `span-{SPAN}/*.csv` also reads
    `span-{SPAN}/train/*.csv` and `span-{SPAN}/eval/*.csv`."""
    folder, _, name = pattern.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    return [pattern] + [f"{prefix}{split}/{name}" for split in SPLIT_FOLDERS]


def _glob_regex(pattern: str) -> str:
    tokens = re.split(r"(\{SPAN\}|\*)", pattern)
    return "".join(r"(\d+)" if token == "{SPAN}" else "[^/]*" if token == "*" else re.escape(token) for token in tokens)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # The file part may sit in a split folder (with_split_folders).
    folder, slash, name = pattern.rpartition("/")
    splits = "|".join(SPLIT_FOLDERS)
    return re.compile(f"^{_glob_regex(folder)}{slash}(?:(?:{splits})/)?{_glob_regex(name)}$")


def span_of_path(relative_path: str, pattern: str) -> int | None:
    """The span number of a file path (relative to the data root, '/'-separated) under a
    `{SPAN}` pattern, or None when the path does not match."""
    match = _pattern_regex(pattern).match(relative_path)
    if match is None or "{SPAN}" not in pattern:
        return None
    return int(match.group(1))


def span_files(data_root: Path, pattern: str) -> dict[int, list[Path]]:
    """Span number -> its CSV files, ascending, for a pattern with {SPAN} ({} for an unspanned pattern)."""
    data_root = Path(data_root)
    if "{SPAN}" not in pattern:
        return {}
    spans: dict[int, list[Path]] = {}
    for glob in with_split_folders(pattern):
        for path in data_root.glob(glob.replace("{SPAN}", "*")):
            span = span_of_path(path.relative_to(data_root).as_posix(), pattern)
            if span is not None and path.is_file():
                spans.setdefault(span, []).append(path)
    return {span: sorted(paths) for span, paths in sorted(spans.items())}


def csv_files(data_root: Path, pattern: str) -> list[Path]:
    """The files of the newest span (or every matching file when the pattern has no {SPAN})."""
    data_root = Path(data_root)
    if "{SPAN}" not in pattern:
        return sorted(p for glob in with_split_folders(pattern) for p in data_root.glob(glob) if p.is_file())
    spans = span_files(data_root, pattern)
    return spans[max(spans)] if spans else []


def window_files(data_root: Path, pattern: str, window: int) -> list[Path]:
    """The files a run reads: its newest `window` spans (0 = all) and the span before them (drift's
    baseline), or every matching file when the pattern has no {SPAN}."""
    if "{SPAN}" not in pattern:
        return csv_files(data_root, pattern)
    spans = span_files(data_root, pattern)
    newest = sorted(spans, reverse=True)
    read = newest if window <= 0 else newest[: window + 1]
    return [path for span in sorted(read) for path in spans[span]]


def next_span(data_root: Path) -> int:
    """The number a new span folder gets: one above the highest existing `span-<N>/`."""
    spans = [
        int(m.group(1)) for p in Path(data_root).glob("span-*") if (m := _SPAN_DIR_RE.match(p.name)) and p.is_dir()
    ]
    return max(spans, default=-1) + 1
