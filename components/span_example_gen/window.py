"""Pure logic of SpanExampleGen: which files form the window, a fingerprint of them, and the
label-aware train/eval split. File listing is passed in, so local folders and buckets (tf.io.gfile
in a Kubeflow pod) follow the one span convention of core/spans.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from core.spans import span_of_path

TRAIN, EVAL = "train", "eval"
SPLITS = (TRAIN, EVAL)
NO_SPAN = -1


@dataclass(frozen=True)
class Window:
    """The spans one run reads, with their files (relative to the data root)."""

    files: dict[int, list[str]]  # every span of the window
    newest: int
    previous: int  # NO_SPAN on the first span
    previous_files: list[str]  # DriftCheck's baseline, read even when the window leaves it out

    @property
    def spans(self) -> list[int]:
        """The window's spans, newest first."""
        return sorted(self.files, reverse=True)

    def files_to_read(self) -> list[tuple[int, str]]:
        read = {(span, name) for span, names in self.files.items() for name in names}
        read |= {(self.previous, name) for name in self.previous_files}
        return sorted(read)


def find_spans(relative_paths: Iterable[str], pattern: str) -> dict[int, list[str]]:
    """span -> sorted files, from the paths a glob of `pattern` (with {SPAN} as *) returned.

    A pattern without {SPAN} makes every matching file span 0 (one unspanned input)."""
    spans: dict[int, list[str]] = {}
    for path in relative_paths:
        span = span_of_path(path, pattern) if "{SPAN}" in pattern else 0
        if span is not None:
            spans.setdefault(span, []).append(path)
    return {span: sorted(files) for span, files in sorted(spans.items())}


def select_window(spans: dict[int, list[str]], window: int) -> Window:
    """The newest `window` spans (0 = all); raises ValueError when there is no span at all."""
    if not spans:
        raise ValueError("no span found")
    ordered = sorted(spans, reverse=True)
    chosen = ordered if window <= 0 else ordered[:window]
    previous = ordered[1] if len(ordered) > 1 else NO_SPAN
    return Window(
        files={span: spans[span] for span in chosen},
        newest=ordered[0],
        previous=previous,
        previous_files=spans.get(previous, []),
    )


def fingerprint(entries: Iterable[tuple[str, int, float]]) -> str:
    """Hash of (path, size, mtime) of every file read: changes when a span is added or rewritten."""
    digest = hashlib.sha256()
    for path, size, mtime in sorted(entries):
        digest.update(f"{path}\0{size}\0{mtime:.6f}\n".encode())
    return digest.hexdigest()[:32]


def row_hash(row: dict[str, str]) -> int:
    """A stable 64-bit hash of a row's content (exact duplicates get the same hash)."""
    key = "\x1f".join(f"{k}={row[k]}" for k in sorted(row) if not k.startswith("__"))
    return int.from_bytes(hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[:8], "big")


def assign_split(row_hash_value: int, label_floor: int, eval_percent: int) -> str:
    # (label_floor -1: a row outside the window's label statistics, split by hash alone)
    """train when the row is among its label's first rows (hash <= the label's floor), else by hash.

    `label_floor` is the k-th smallest hash of the row's label (k = rows kept on the training side),
    so each label with at least k rows has at least k of them in train, whatever the hashes do.
    """
    if row_hash_value <= label_floor:
        return TRAIN
    return EVAL if row_hash_value % 100 < eval_percent else TRAIN


def label_floors(hashes_by_label: dict[str, list[int]], keep: int) -> dict[str, int]:
    """label -> the `keep`-th smallest row hash (or the largest one when the label has fewer rows)."""
    return {label: sorted(hashes)[: max(keep, 1)][-1] for label, hashes in hashes_by_label.items() if hashes}


class MalformedCsv(ValueError):
    """A CSV row that cannot be read as a record; the message names the file and the row."""


def parse_rows(lines: Iterable[str], source: str, span: int) -> list[dict[str, str]]:
    """CSV text (header first) -> rows {column: value}, empty cells left out (as CsvExampleGen does),
    each tagged with its span under `__span__`.

    Quoted fields may span lines (Python's csv module). A row with more cells than the header
    stops the run (MalformedCsv): dropping it would lose data silently.
    """
    import csv

    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return []
    # A UTF-8 byte order mark (spreadsheets write one) is not part of the first column's name.
    columns = [c.strip() for c in [header[0].removeprefix("\ufeff"), *header[1:]]] if header else []
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) > len(columns):
            raise MalformedCsv(f"{source}: row {number} has {len(cells)} cells for {len(columns)} columns")
        # Fewer cells than columns: the missing ones are empty, like an empty cell.
        row = {column: value for column, value in zip(columns, cells, strict=False) if value != ""}
        row["__span__"] = str(span)
        rows.append(row)
    return rows
