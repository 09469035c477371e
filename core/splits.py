"""How a data root says which rows are its evaluation data, and the checks of it (no TensorFlow).

Three ways, each optional (README "Your own data"):

- a `split` column: `train` or `eval` on every row of the file (case and surrounding spaces ignored);
- `train/` and `eval/` folders in a span (`span-0/train/*.csv`, `span-0/eval/*.csv`; a flat data root
  may have them too): every row of a file under `eval/` is evaluation data;
- a `document` column: rows with the same id are one document, and a document's rows never straddle
  train, validation and eval (SpanExampleGen splits by a hash of the id, or by the split its rows
  were given).

Rows that say nothing are split by the pipeline's hash, as before. Bad values stop the run with one
line naming the file and the row (`SplitError`): an unknown split, a split that contradicts the
file's folder, an empty document id in a file with the column, a document given both train and
eval, a label that only the eval data has (the model could never learn it). The CLI's preflight
applies these rules to the files before TensorFlow loads (`check_data_splits`); SpanExampleGen's
executor applies them again while it reads (Kubeflow has no preflight).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Optional

from core.errors import UserError

SPLIT_COLUMN = "split"
DOCUMENT_COLUMN = "document"
TRAIN, EVAL = "train", "eval"
USER_SPLITS = (TRAIN, EVAL)
SPLIT_FOLDERS = USER_SPLITS  # <span>/train/*.csv, <span>/eval/*.csv

Where = tuple[str, int]  # (file relative to the data root, CSV row number: the header is row 1)


class MalformedCsv(UserError, ValueError):
    """A CSV row that cannot be used as it is; the message names the file and the row."""


class SplitError(MalformedCsv):
    """A row's split or document says something impossible; the message names the file and the row."""


def describe(where: Where) -> str:
    return f"{where[0]} row {where[1]}"


def folder_split(relative_path: str) -> Optional[str]:
    """`train`/`eval` when the file sits in a span's (or the data root's) `train/` or `eval/` folder."""
    parts = relative_path.split("/")
    return parts[-2] if len(parts) >= 2 and parts[-2] in SPLIT_FOLDERS else None


def csv_records(lines: Iterable[str], source: str) -> Iterator[tuple[int, list[str], dict[str, str]]]:
    """(row number, the header's columns, {column: value}) per data row, empty cells left out (as
    CsvExampleGen does). Quoted fields may span lines. A row with more cells than the header is a
    MalformedCsv: dropping it would lose data silently."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    # A UTF-8 byte order mark (spreadsheets write one) is not part of the first column's name.
    columns = [c.strip() for c in [header[0].removeprefix("\ufeff"), *header[1:]]] if header else []
    for number, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) > len(columns):
            raise MalformedCsv(f"{source}: row {number} has {len(cells)} cells for {len(columns)} columns")
        # Fewer cells than columns: the missing ones are empty, like an empty cell.
        yield number, columns, {column: value for column, value in zip(columns, cells, strict=False) if value != ""}


def row_split(row: Mapping[str, str], columns: Sequence[str], folder: Optional[str], where: Where) -> Optional[str]:
    """The split a row was given (None: the pipeline's hash decides); SplitError on a bad value."""
    if DOCUMENT_COLUMN in columns and not row.get(DOCUMENT_COLUMN, "").strip():
        raise SplitError(f"{describe(where)}: empty document id (a file with a 'document' column needs one per row)")
    if SPLIT_COLUMN not in columns:
        return folder
    given = row.get(SPLIT_COLUMN, "")
    value = given.strip().lower()
    if value not in USER_SPLITS:
        raise SplitError(f"{describe(where)}: unknown split {given!r} (the 'split' column takes train or eval)")
    if folder is not None and value != folder:
        raise SplitError(f"{describe(where)}: split '{value}' in a file under the {folder}/ folder")
    return value


def document_of(row: Mapping[str, str]) -> Optional[str]:
    document = row.get(DOCUMENT_COLUMN)
    return document.strip() if document is not None else None


def conflict(document: str, train: Where, eval_: Where) -> SplitError:
    return SplitError(
        f"document {document!r} is given both train ({describe(train)}) and eval ({describe(eval_)}): "
        "a document's rows must all be training or all evaluation data"
    )


def eval_only(label: str, where: Where) -> SplitError:
    return SplitError(
        f"label {label!r} has rows only in the eval data (first: {describe(where)}): the model cannot learn it; "
        "give it training rows or leave those rows out"
    )


class SplitPlan:
    """Everything the rules need to know about a set of rows, gathered row by row (the preflight's check;
    the executor gathers the same facts with Beam)."""

    def __init__(self) -> None:
        self.document_splits: dict[str, dict[str, Where]] = {}  # document -> split -> first row given it
        self.rows: list[tuple[str, Optional[str], Optional[str], Where]] = []  # label, document, split, where

    def add(self, row: Mapping[str, str], given: Optional[str], where: Where) -> None:
        document = document_of(row)
        if document is not None and given is not None:
            seen = self.document_splits.setdefault(document, {})
            seen[given] = min(seen.get(given, where), where)
            if len(seen) == len(USER_SPLITS):
                raise conflict(document, seen[TRAIN], seen[EVAL])
        self.rows.append((row.get("label", ""), document, given, where))

    def check(self) -> None:
        """Raises SplitError for a label that only eval rows have (a document follows its given split)."""
        training_side: set[str] = set()
        first_eval: dict[str, Where] = {}
        for label, document, given, where in self.rows:
            side = given or next(iter(self.document_splits.get(document or "", {})), None)
            if side == EVAL:
                first_eval[label] = min(first_eval.get(label, where), where)
            else:
                training_side.add(label)
        for label, where in sorted(first_eval.items()):
            if label not in training_side:
                raise eval_only(label, where)


def says_splits(path: Path, relative: str) -> bool:
    """Whether a file takes part in the rules: in a split folder, or a `split`/`document` column."""
    if folder_split(relative) is not None:
        return True
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        header = next(csv.reader(handle), [])
    return bool({SPLIT_COLUMN, DOCUMENT_COLUMN} & {c.strip() for c in header})


def check_data_splits(data_root: Path, files: Sequence[Path]) -> None:
    """The rules above over a run's CSV files (every span it reads); SplitError names the first problem.

    Reads the files fully only when one of them has a split folder or a `split`/`document` column;
    otherwise only their headers."""
    data_root = Path(data_root)
    relative = {path: path.relative_to(data_root).as_posix() for path in files}
    if not any(says_splits(path, relative[path]) for path in files):
        return
    plan = SplitPlan()
    for path in files:
        name, folder = str(path), folder_split(relative[path])
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                for number, columns, row in csv_records(handle, name):
                    where = (name, number)
                    plan.add(row, row_split(row, columns, folder, where), where)
        except UnicodeDecodeError as exc:
            raise MalformedCsv(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except csv.Error as exc:
            raise MalformedCsv(f"{name}: unreadable CSV ({exc})") from None
    plan.check()
