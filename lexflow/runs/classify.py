"""Bulk classification (`lexflow classify`): documents or a `text` CSV in, one labelled row per provision out.

Three steps; bad input fails before the output is opened (nothing is written):

1. `rows(path)`: every input row, lazily. A `.txt`/`.docx`/`.pdf` is read and split into provisions
   (documents/); a directory contributes its documents (recursively, sorted); a CSV's `text` column
   contributes one row per record, not split. Any bad file or row raises a `UserError` naming it.
2. `load_model(...)`: the production version (routing.json, else the newest), as the gateway answers
   unpinned requests, loaded with the gateway's own in-process code (`LoadedModel`, micro-batcher and all).
3. `classify(rows, predict, batch_size)`: large batches, each scored as soon as it is full while
   later documents are still being read and split, and written while the last ones are scored,
   so the model waits neither for the splitter nor for the output (BENCHMARKS.md).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Optional

from core.errors import UserError
from documents import DEFAULT_MAX_BYTES, DEFAULT_MAX_CHARS, DocumentError, read_document, split_provisions
from documents import supported_extensions as document_extensions

if TYPE_CHECKING:
    from serving.backends.base import Prediction
    from serving.backends.inprocess import LoadedModel

COLUMNS = ["document", "provision", "number", "heading", "start", "end", "text", "label", "confidence", "margin"]
FORMATS = ("csv", "json")


class Row(NamedTuple):  # a tuple: cheap to build, one per provision
    """One text to classify: a provision of a document (with its place in it) or a row of a CSV."""

    document: str
    provision: int  # the provision's index in its document, or the CSV row's index (0 = first data row)
    text: str  # what the model reads: the provision on one line, or the CSV cell as it is
    number: Optional[str] = None
    heading: Optional[str] = None
    start: Optional[int] = None
    end: Optional[int] = None


class Result(NamedTuple):
    row: Row
    label: str
    confidence: float  # the top class's score
    margin: float  # top score minus the second: small means the model hesitated

    def values(self) -> tuple[Any, ...]:
        """In COLUMNS order."""
        r = self.row
        confidence, margin = round(self.confidence, 6), round(self.margin, 6)
        return (r.document, r.provision, r.number, r.heading, r.start, r.end, r.text, self.label, confidence, margin)

    def record(self) -> dict[str, Any]:
        return dict(zip(COLUMNS, self.values(), strict=True))


# --- 1. inputs ---------------------------------------------------------------------------------------


def collect(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_chars: int = DEFAULT_MAX_CHARS) -> list[Row]:
    """All rows of `path` (see `rows`)."""
    return list(rows(path, max_bytes=max_bytes, max_chars=max_chars))


def rows(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[Row]:
    """The rows of a document, a directory of documents or a `text` CSV, document by document.

    What can be checked without reading is checked now (the path exists, a directory holds
    documents); a bad file or row raises a UserError naming it when the iteration reaches it.
    """
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in document_extensions())
        if not files:
            raise UserError(f"{path}: no documents ({', '.join(document_extensions())}) in this directory")
        return (row for file in files for row in document_rows(file, path, max_bytes, max_chars))
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    if path.suffix.lower() == ".csv":
        return iter(csv_rows(path))
    return iter(document_rows(path, path.parent, max_bytes, max_chars))


def document_rows(path: Path, root: Path, max_bytes: int, max_chars: int) -> list[Row]:
    name = path.relative_to(root).as_posix() if path != root else path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:  # before reading it into memory
            raise UserError(f"{path}: {size} bytes exceeds the limit of {max_bytes} bytes (--max-bytes)")
        text = read_document(path.name, path.read_bytes(), max_bytes=max_bytes)
        provisions = split_provisions(text, max_chars=max_chars)
    except DocumentError as exc:
        # The readers name the file by its base name; the CLI names it by the path the user gave.
        raise UserError(f"{path}: {str(exc).removeprefix(path.name + ': ')}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return [Row(name, p.index, p.flat_text, p.number, p.heading, p.start, p.end) for p in provisions]


def csv_rows(path: Path) -> list[Row]:
    """One row per CSV record's `text` cell (UTF-8, a BOM allowed); an empty cell is an error, not a skip."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if "\x00" in content:
        raise UserError(f"{path}: binary content (NUL bytes), not a CSV file")
    reader = csv.DictReader(io.StringIO(content, newline=""))
    try:
        if not reader.fieldnames or "text" not in reader.fieldnames:
            found = ", ".join(reader.fieldnames or []) or "none"
            raise UserError(f"{path}: no `text` column (columns: {found})")
        rows = []
        for index, record in enumerate(reader):
            text = record.get("text")
            if text is None or not text.strip():
                raise UserError(f"{path}: line {reader.line_num}: empty `text`")
            rows.append(Row(path.name, index, text))
    except csv.Error as exc:
        raise UserError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise UserError(f"{path}: no rows below the header")
    return rows


# --- 2. the model ------------------------------------------------------------------------------------


def load_model(model_base_dir: Path, model_name: str, version: Optional[int] = None) -> LoadedModel:
    """`version`, else the production version, loaded with the gateway's in-process code.

    Production is what the gateway answers unpinned requests with (serving/routing/selector.py): the version
    `routing.json` next to the versions names (`lexflow promote`), else the newest complete one.
    Bulk runs ignore the canary share: every row is scored by the same version.
    """
    from core import routing_file
    from serving.backends.inprocess import LoadedModel
    from serving.backends.versions import VersionDirectory

    model_dir = Path(model_base_dir) / model_name
    available = VersionDirectory(model_dir).scan()
    if not available:
        raise UserError(f"{model_dir}: no model versions (train one with `lexflow run`, or pass --model-base-dir)")
    if version is None:
        routed = (routing_file.read(model_base_dir, model_name) or {}).get("production")
        if routed is not None and routed not in available:
            raise UserError(
                f"{routing_file.path(model_base_dir, model_name)}: production is version {routed}, which is not "
                f"under {model_dir} (versions: {', '.join(map(str, sorted(available)))}); pass --version"
            )
        version = routed if routed is not None else max(available)
    elif version not in available:
        raise UserError(f"{model_dir}: no version {version} (versions: {', '.join(map(str, sorted(available)))})")
    try:
        return LoadedModel(version, available[version])
    except Exception as exc:  # TensorFlow's many load errors: a corrupt or foreign SavedModel
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{available[version]}: cannot load the model ({first})") from None


# --- 3. classification and output --------------------------------------------------------------------


def classify(
    rows: Iterable[Row],
    predict: Callable[[list[str]], Prediction],
    batch_size: int,
    on_scored: Callable[[int], None] = lambda n: None,
) -> tuple[int, Iterator[list[Result]]]:
    """(how many rows, their results batch by batch in input order).

    Reading and splitting the inputs (this thread) overlaps with scoring (a worker thread: the
    model runs outside the GIL): each batch is scored as soon as it is full. It returns once every
    row has been read, so a bad input raises here, before the caller has written anything; the
    model is meanwhile still scoring the last batches, while the caller writes the first ones.
    `on_scored(n)` is called from the worker after each batch.
    """
    pool = ThreadPoolExecutor(1, thread_name_prefix="classify")
    pending: list[tuple[list[Row], Future[Prediction]]] = []

    def submit(batch: list[Row]) -> None:
        def scored(done: Future[Prediction]) -> None:
            if not done.cancelled() and done.exception() is None:
                on_scored(len(batch))

        future = pool.submit(predict, [r.text for r in batch])
        future.add_done_callback(scored)
        pending.append((batch, future))

    try:
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) == batch_size:
                submit(batch)
                batch = []
        if batch:
            submit(batch)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return sum(len(b) for b, _ in pending), _in_order(pool, pending)


def _in_order(pool: ThreadPoolExecutor, pending: list[tuple[list[Row], Future[Prediction]]]) -> Iterator[list[Result]]:
    try:
        for batch, future in pending:
            yield _results(batch, future.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _results(batch: list[Row], prediction: Prediction) -> list[Result]:
    results = []
    for row, label, scores in zip(batch, prediction.labels, prediction.scores, strict=True):
        top, second = _top_two(scores)
        results.append(Result(row, label, top, top - second))
    return results


def _top_two(scores: list[float]) -> tuple[float, float]:
    if len(scores) < 2:
        return (scores[0] if scores else float("-inf")), 0.0
    ranked = sorted(scores)  # in C: cheaper than a loop in Python for a few dozen classes
    return ranked[-1], ranked[-2]


def classify_to(
    out: IO[str],
    rows: Iterable[Row],
    predict: Callable[[list[str]], Prediction],
    output_format: str,
    batch_size: int,
) -> int:
    """Classify `rows` and write the results to `out`; how many were written."""
    _, batches = classify(rows, predict, batch_size)
    return write(out, batches, output_format)


def write(out: IO[str], batches: Iterable[list[Result]], output_format: str) -> int:
    writer = Writer(out, output_format)
    for results in batches:
        writer.write(results)
    writer.close()
    return writer.count


class Writer:
    """CSV (a header, one line per result) or JSON (one array of objects), streamed to `out`."""

    def __init__(self, out: IO[str], fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.out, self.fmt, self.count = out, fmt, 0
        self._csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writerow(COLUMNS)
        else:
            out.write("[")

    def write(self, results: list[Result]) -> None:
        if self._csv is not None:
            lines: list[str] = []
            for result in results:
                values = result.values()
                line = _csv_line(values)
                if line is None:  # a '\r' somewhere: the csv module's own rule for it
                    self.out.write("".join(lines))
                    lines = []
                    self._csv.writerow(values)
                else:
                    lines.append(line)
            self.out.write("".join(lines))
        else:
            self.out.write(
                "".join(
                    (",\n" if self.count + i else "\n") + json.dumps(r.record(), ensure_ascii=False)
                    for i, r in enumerate(results)
                )
            )
        self.count += len(results)

    def close(self) -> None:
        if self._csv is None:
            self.out.write("\n]\n" if self.count else "]\n")
        self.out.flush()


def _csv_line(values: tuple[Any, ...]) -> Optional[str]:
    """`values` as the csv module writes them with this dialect (",", '"', minimal quoting, "\n"), or
    None when a text holds a "\r" (whether that is quoted changed between Python versions). The csv
    module scans every character of every field: with provisions of a few hundred characters that
    was ~6 us a row, more than the rest of the output; str's own searches cost a fraction of it."""
    fields = []
    for value in values:
        if value is None:
            fields.append("")
        elif type(value) is str:
            if "\r" in value:
                return None
            if '"' in value:
                fields.append('"' + value.replace('"', '""') + '"')
            elif "," in value or "\n" in value:
                fields.append('"' + value + '"')
            else:
                fields.append(value)
        else:
            fields.append(str(value))
    return ",".join(fields) + "\n"
