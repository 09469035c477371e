"""Where the raw CSVs are under a data root, and the span convention.

A data root holds one folder per span (`span-0/` the corpus, `span-1/`... feedback exports),
each with CSV files `text,label[,source]`. A flat folder of CSVs is read as one unspanned input.
"""
from __future__ import annotations

import re

from pathlib import Path
from typing import Optional

SPAN_PATTERN = "span-{SPAN}/*.csv"
FLAT_PATTERN = "*.csv"


def resolve_input_pattern(data_root: Path, explicit: Optional[str] = None) -> str:
    if explicit:
        return explicit
    if any(p.is_dir() for p in Path(data_root).glob("span-*")):
        return SPAN_PATTERN
    return FLAT_PATTERN


def csv_files(data_root: Path, pattern: str) -> list[Path]:
    """The files ExampleGen will read: those of the latest span (or all when unspanned)."""
    data_root = Path(data_root)
    if "{SPAN}" not in pattern:
        return sorted(p for p in data_root.glob(pattern) if p.is_file())
    spans = span_files(data_root, pattern)
    return spans[max(spans)] if spans else []


def span_files(data_root: Path, pattern: str) -> dict[int, list[Path]]:
    """Span number -> its CSV files, for a pattern with {SPAN} ({} for an unspanned pattern)."""
    data_root = Path(data_root)
    if "{SPAN}" not in pattern:
        return {}
    span_re = re.compile(
        "^" + "".join(
            r"(\d+)" if token == "{SPAN}" else "[^/]*" if token == "*" else re.escape(token)
            for token in re.split(r"(\{SPAN\}|\*)", pattern)
        ) + "$"
    )
    spans: dict[int, list[Path]] = {}
    for path in data_root.glob(pattern.replace("{SPAN}", "*")):
        match = span_re.match(path.relative_to(data_root).as_posix())
        if match and path.is_file():
            spans.setdefault(int(match.group(1)), []).append(path)
    return {span: sorted(paths) for span, paths in sorted(spans.items())}
