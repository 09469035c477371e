"""Pure logic of SpanExampleGen: which files form the window, a fingerprint of them, and the
label-aware train/validation/eval split. File listing is passed in, so local folders and buckets
(tf.io.gfile in a Kubeflow pod) follow the one span convention of core/spans.py; what a user's
`split`/`document` columns and `train/`/`eval/` folders mean is core/splits.py.

The split of a row (`assign_split`): its *unit* is its document when the file has a `document`
column, else the row itself; the unit's 64-bit hash decides what nothing else decides:
- eval: the split the user gave, else `hash % 100 < eval_percent` (today's hash split, unchanged);
- the training side is then cut in two: validation when `(hash // 100) % 100 < validation_percent`,
  else train. The model search and the temperature are chosen on validation; the Evaluator's eval
  split is only used to judge and bless.
- every label's first `min_train_rows_per_label` units (smallest hashes among the units not given
  to eval) are train, whatever the hash says: a rare label can never be eval- or validation-only,
  where the model could not learn it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Optional

from core import splits as user_splits
from core.spans import span_of_path
from core.splits import MalformedCsv

TRAIN, VALIDATION, EVAL = user_splits.TRAIN, "validation", user_splits.EVAL
SPLITS = (TRAIN, VALIDATION, EVAL)
# The folders of a span whose files are the user's own training and evaluation data (span-0/train/*.csv,
# span-0/eval/*.csv); benchmarks/quality.py tests for this name to know that the pipeline reads them.
USER_SPLIT_FOLDERS = user_splits.SPLIT_FOLDERS
NO_SPAN = -1
# Bookkeeping fields of a parsed row (never written to the examples, never hashed).
SPAN_FIELD, GIVEN_FIELD, FILE_FIELD, ROW_FIELD = "__span__", "__given__", "__file__", "__row__"
# Columns that steer the split and are not written to the examples: the split is the split.
DROPPED_COLUMNS = (user_splits.SPLIT_COLUMN,)

__all__ = ["MalformedCsv"]  # re-exported: lexflow/runs/local_run.py reports it as a data error


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


def row_hash(row: Mapping[str, str]) -> int:
    """A stable 64-bit hash of a row's content (exact duplicates get the same hash)."""
    key = "\x1f".join(f"{k}={row[k]}" for k in sorted(row) if not k.startswith("__"))
    return _hash64(key)


def document_hash(document: str) -> int:
    return _hash64(f"{user_splits.DOCUMENT_COLUMN}={document}")


def _hash64(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[:8], "big")


def unit_hash(row: Mapping[str, str]) -> int:
    """The hash that splits a row: its document's (rows of one document stay together), else its own."""
    document = user_splits.document_of(row)
    return document_hash(document) if document is not None else row_hash(row)


def given_split(row: Mapping[str, str]) -> Optional[str]:
    return row.get(GIVEN_FIELD)


def where(row: Mapping[str, str]) -> user_splits.Where:
    return row.get(FILE_FIELD, "?"), int(row.get(ROW_FIELD, 0))


def assign_split(
    hash_value: int, given: Optional[str], forced_train: bool, eval_percent: int, validation_percent: int
) -> str:
    """train / validation / eval of a unit (see the module docstring). `forced_train`: the unit is
    among its label's first units (label_floors)."""
    if given == EVAL:
        return EVAL
    if forced_train:
        return TRAIN
    if given is None and hash_value % 100 < eval_percent:
        return EVAL
    return VALIDATION if (hash_value // 100) % 100 < validation_percent else TRAIN


def label_floors(hashes_by_label: dict[str, list[int]], keep: int) -> dict[str, int]:
    """label -> the `keep`-th smallest unit hash (or the largest one when the label has fewer units):
    a unit whose hash is at most its label's floor is among the label's first units."""
    return {label: sorted(hashes)[: max(keep, 1)][-1] for label, hashes in hashes_by_label.items() if hashes}


def parse_rows(lines: Iterable[str], source: str, span: int, relative: Optional[str] = None) -> list[dict[str, str]]:
    """CSV text (header first) -> rows {column: value}, empty cells left out (as CsvExampleGen does),
    each tagged with its span, the split the user gave it (core/splits.py; none: absent) and its place.

    Quoted fields may span lines. A row with more cells than the header, or with a bad split or
    document value, stops the run (MalformedCsv, naming the file and row): dropping it would lose
    data silently. `source` names the file in messages; `relative` (default: source) is its path
    under the data root, which says whether it sits in a train/ or eval/ folder.
    """
    folder = user_splits.folder_split(relative or source)
    rows = []
    for number, columns, cells in user_splits.csv_records(lines, source):
        given = user_splits.row_split(cells, columns, folder, (source, number))
        row = {k: v for k, v in cells.items() if k not in DROPPED_COLUMNS}
        row.update({SPAN_FIELD: str(span), FILE_FIELD: source, ROW_FIELD: str(number)})
        if given is not None:
            row[GIVEN_FIELD] = given
        rows.append(row)
    return rows


def effective_split(row: Mapping[str, str], document_splits: Mapping[int, str]) -> Optional[str]:
    """The split a row was given, or the one its document's other rows were given."""
    given = given_split(row)
    if given is None and user_splits.document_of(row) is not None:
        return document_splits.get(unit_hash(row))
    return given


def plan_splits(rows: list[dict[str, str]], eval_percent: int, validation_percent: int, keep: int) -> list[str]:
    """The split of every row, in memory: the rules the executor's Beam graph applies at scale
    (its tests compare the two). Raises SplitError as the executor does."""
    document_splits: dict[int, str] = {}
    plan = user_splits.SplitPlan()
    for row in rows:
        plan.add(row, given_split(row), where(row))
    for document, given in plan.document_splits.items():
        document_splits[document_hash(document)] = next(iter(given))
    plan.check()
    documents: dict[str, set[int]] = {}  # a document counts once per label, however many rows it has
    hashes: dict[str, list[int]] = {}
    for row in rows:
        if effective_split(row, document_splits) == EVAL:
            continue
        label = row.get("label", "")
        if user_splits.document_of(row) is not None:
            documents.setdefault(label, set()).add(unit_hash(row))
        else:
            hashes.setdefault(label, []).append(unit_hash(row))
    for label, units in documents.items():
        hashes.setdefault(label, []).extend(units)
    floors = label_floors(hashes, keep)
    forced_documents = {
        unit_hash(row)
        for row in rows
        if user_splits.document_of(row) is not None
        and effective_split(row, document_splits) != EVAL
        and unit_hash(row) <= floors.get(row.get("label", ""), -1)
    }

    def forced(row: Mapping[str, str]) -> bool:
        if user_splits.document_of(row) is not None:
            return unit_hash(row) in forced_documents
        return unit_hash(row) <= floors.get(row.get("label", ""), -1)

    return [
        assign_split(unit_hash(r), effective_split(r, document_splits), forced(r), eval_percent, validation_percent)
        for r in rows
    ]
