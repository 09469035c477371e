"""SpanExampleGen: the window of spans, read at run time from the files, with a label-aware split into
train / validation / eval that keeps documents whole and takes the user's own eval data."""

import csv
import gzip
import json
from pathlib import Path

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components.span_example_gen import window as w
from components.span_example_gen.executor import Executor
from datagen import generate_rows, write_csv


def test_spans_window_and_previous_span():
    paths = ["span-0/corpus.csv", "span-2/feedback.csv", "span-10/feedback.csv", "span-2/more.csv", "notes/x.csv"]
    spans = w.find_spans(paths, "span-{SPAN}/*.csv")
    assert spans == {
        0: ["span-0/corpus.csv"],
        2: ["span-2/feedback.csv", "span-2/more.csv"],
        10: ["span-10/feedback.csv"],
    }
    everything = w.select_window(spans, 0)
    assert everything.spans == [10, 2, 0] and (everything.newest, everything.previous) == (10, 2)
    newest_only = w.select_window(spans, 1)
    assert newest_only.spans == [10]
    # Drift still compares with the span before, even when the window leaves it out.
    assert newest_only.previous == 2 and (2, "span-2/more.csv") in newest_only.files_to_read()
    first = w.select_window({0: ["span-0/c.csv"]}, 0)
    assert first.previous == w.NO_SPAN and first.files_to_read() == [(0, "span-0/c.csv")]
    assert w.find_spans(["a.csv", "b.csv"], "*.csv") == {0: ["a.csv", "b.csv"]}  # unspanned: one input
    with pytest.raises(ValueError):
        w.select_window({}, 0)


def test_fingerprint_follows_the_files_read():
    base = [("span-0/c.csv", 10, 1.0)]
    assert w.fingerprint(base) == w.fingerprint(list(base))
    assert w.fingerprint(base) != w.fingerprint([*base, ("span-1/f.csv", 5, 2.0)])  # a new span
    assert w.fingerprint(base) != w.fingerprint([("span-0/c.csv", 11, 1.0)])  # a rewritten one


def _rows(n: int, labels: int = 7, **extra) -> list[dict[str, str]]:
    return [{"text": f"text {i}", "label": f"label{i % labels}", **extra} for i in range(n)]


def test_every_label_keeps_its_first_rows_in_train():
    """Whatever the hashes do, a label with >= 2 rows has >= 2 train rows (never eval- or validation-only)."""
    rows = _rows(40)
    rows += [{"text": "rare one", "label": "rare"}, {"text": "rare two", "label": "rare"}]
    rows += [{"text": "dup", "label": "dups"}] * 3  # exact duplicates share a hash
    for eval_percent in (20, 50, 99):
        split = w.plan_splits(rows, eval_percent, validation_percent=50, keep=2)
        for label in {row["label"] for row in rows}:
            assert sum(1 for row, s in zip(rows, split, strict=True) if row["label"] == label and s == w.TRAIN) >= 2, (
                label
            )
    assert w.row_hash({"text": "a", "label": "x"}) == w.row_hash({"label": "x", "text": "a", "__span__": "3"})


def test_without_split_columns_eval_is_todays_hash_split_and_validation_comes_from_the_training_side():
    rows = _rows(600, labels=5)
    split = w.plan_splits(rows, eval_percent=20, validation_percent=20, keep=2)
    hashes = {}
    for row in rows:
        hashes.setdefault(row["label"], []).append(w.row_hash(row))
    floors = w.label_floors(hashes, 2)
    for row, got in zip(rows, split, strict=True):
        h = w.row_hash(row)
        before = "train" if h <= floors[row["label"]] or h % 100 >= 20 else "eval"  # the rule before validation
        assert (got == w.EVAL) == (before == "eval")
    counts = {s: split.count(s) for s in w.SPLITS}
    assert 0.12 * 600 < counts[w.EVAL] < 0.28 * 600  # ~20 % of the rows
    assert 0.10 * 480 < counts[w.VALIDATION] < 0.30 * 480  # ~20 % of the training side


def test_a_documents_rows_never_straddle_splits_and_rare_labels_pull_their_document_into_train():
    rows = [{"text": f"clause {i}", "label": f"l{i % 4}", "document": f"contract {i // 6}"} for i in range(300)]
    rows += [{"text": "the only rare one", "label": "rare", "document": "contract 7"}]  # shares a big document
    rows += [{"text": "rare again", "label": "rare", "document": "contract 200"}]
    split = w.plan_splits(rows, eval_percent=30, validation_percent=30, keep=2)
    by_document: dict[str, set[str]] = {}
    for row, s in zip(rows, split, strict=True):
        by_document.setdefault(row["document"], set()).add(s)
    assert all(len(splits) == 1 for splits in by_document.values())
    assert {s for splits in by_document.values() for s in splits} == set(w.SPLITS)
    assert by_document["contract 7"] == by_document["contract 200"] == {w.TRAIN}  # the rare label's two documents


def test_the_users_split_column_and_folders_decide_eval_and_validation_is_carved_from_their_train():
    rows = _rows(200, split=w.TRAIN) + _rows(50, split=w.EVAL)
    for row in rows:
        row[w.GIVEN_FIELD] = row.pop("split")  # as parse_rows tags them
    split = w.plan_splits(rows, eval_percent=20, validation_percent=25, keep=2)
    assert split[200:] == [w.EVAL] * 50
    assert w.EVAL not in split[:200] and 20 < split[:200].count(w.VALIDATION) < 80


def test_a_document_follows_the_split_its_rows_were_given_elsewhere():
    given = {"text": "a", "label": "label0", "document": "d1", w.GIVEN_FIELD: w.EVAL, w.FILE_FIELD: "span-0/eval/x.csv"}
    rows = [*_rows(20), given, {"text": "b", "label": "label1", "document": "d1"}]  # span-1's row of that contract
    assert w.plan_splits(rows, eval_percent=0, validation_percent=0, keep=1)[-2:] == [w.EVAL, w.EVAL]


def test_bad_user_splits_name_the_file_and_row():
    header = "text,label,document,split\n"
    with pytest.raises(w.MalformedCsv, match=r"span-0/a\.csv row 3: unknown split 'test'"):
        w.parse_rows([header, "a,x,d1,train\n", "b,x,d2,test\n"], "span-0/a.csv", 0)
    with pytest.raises(w.MalformedCsv, match=r"span-0/a\.csv row 2: empty document id"):
        w.parse_rows([header, "a,x,,train\n"], "span-0/a.csv", 0)
    with pytest.raises(w.MalformedCsv, match=r"span-0/eval/a\.csv row 2: split 'train' in a file under the eval/"):
        w.parse_rows([header, "a,x,d1, Train\n"], "span-0/eval/a.csv", 0)
    rows = w.parse_rows([header, "a,x,d1,EVAL\n"], "span-0/a.csv", 0)
    assert rows[0][w.GIVEN_FIELD] == "eval" and "split" not in rows[0]  # the split column is not a feature
    doc = {"text": "a", "label": "x", "document": "d1", w.FILE_FIELD: "span-0/train/t.csv", w.ROW_FIELD: "4"}
    clash = [{**doc, w.GIVEN_FIELD: w.TRAIN}, {**doc, w.GIVEN_FIELD: w.EVAL, w.FILE_FIELD: "span-0/eval/e.csv"}]
    with pytest.raises(w.MalformedCsv, match=r"document 'd1' is given both train \(span-0/train/t\.csv row 4\)"):
        w.plan_splits(clash, 20, 20, 2)
    only_eval = [
        *_rows(10),
        {"text": "z", "label": "new", w.GIVEN_FIELD: w.EVAL, w.FILE_FIELD: "e.csv", w.ROW_FIELD: "9"},
    ]
    with pytest.raises(w.MalformedCsv, match=r"label 'new' has rows only in the eval data \(first: e\.csv row 9\)"):
        w.plan_splits(only_eval, 20, 20, 2)


def test_csv_rows_quoted_newlines_empty_cells_and_a_malformed_row():
    text = 'text,label,source\n"two\nlines",governing_law,\nshort,termination,corpus\n'
    rows = w.parse_rows(text.splitlines(keepends=True), "span-1/f.csv", 1)
    place = {w.FILE_FIELD: "span-1/f.csv", "__span__": "1"}
    assert rows == [
        {"text": "two\nlines", "label": "governing_law", **place, w.ROW_FIELD: "2"},  # empty cell: left out
        {"text": "short", "label": "termination", "source": "corpus", **place, w.ROW_FIELD: "3"},
    ]
    with pytest.raises(w.MalformedCsv, match=r"span-1/f\.csv: row 3 has 4 cells for 3 columns"):
        w.parse_rows(["text,label,source\n", "a,b,c\n", "a,b,c,d\n"], "span-1/f.csv", 1)


def _examples(artifact, split: str) -> list[dict]:
    out = []
    for path in sorted(Path(artifact.uri, f"Split-{split}").glob("*.gz")):
        for record in tf.data.TFRecordDataset(str(path), compression_type="GZIP"):
            feature = tf.train.Example.FromString(record.numpy()).features.feature
            out.append({k: v.bytes_list.value[0].decode() for k, v in feature.items()})
    return out


def _all(artifact) -> list[dict]:
    return [row for split in w.SPLITS for row in _examples(artifact, split)]


def _run(tmp_path: Path, window: int = 0):
    outputs = {key: standard_artifacts.Examples() for key in ("examples", "newest_examples", "previous_examples")}
    for key, artifact in outputs.items():
        artifact.uri = str(tmp_path / "out" / key)
    Executor().Do(
        {},
        {key: [artifact] for key, artifact in outputs.items()},
        {
            "input_base": str(tmp_path / "data"),
            "input_pattern": "span-{SPAN}/*.csv",
            "window": window,
            "eval_percent": 40,
            "validation_percent": 25,
            "min_train_rows_per_label": 2,
        },
    )
    return outputs


def test_executor_writes_the_window_the_newest_and_the_previous_span(tmp_path):
    write_csv(tmp_path / "data" / "span-0" / "corpus.csv", generate_rows(120, seed=3))
    feedback = generate_rows(30, seed=4, source="feedback")
    feedback[0]["label"], feedback[1]["label"] = "escrow", "only_once"
    feedback[2]["label"] = "escrow"
    write_csv(tmp_path / "data" / "span-1" / "feedback.csv", feedback)
    outputs = _run(tmp_path)

    window = outputs["examples"]
    rows = {split: _examples(window, split) for split in w.SPLITS}
    assert sum(map(len, rows.values())) == 150 and rows["eval"] and rows["validation"]  # nothing lost, some held out
    train_labels = [r["label"] for r in rows["train"]]
    assert train_labels.count("escrow") == 2 and "only_once" in train_labels  # rare labels all train
    assert window.get_string_custom_property("spans") == "1,0" and window.span == 1
    assert window.get_string_custom_property("single_row_labels") == "only_once"
    counts = json.loads(window.get_string_custom_property("label_counts"))
    assert counts["escrow"] == {"train": 2} and sum(sum(c.values()) for c in counts.values()) == 150
    newest = _all(outputs["newest_examples"])
    previous = _all(outputs["previous_examples"])
    assert len(newest) == 30 and {r["source"] for r in newest} == {"feedback"}
    assert len(previous) == 120 and outputs["previous_examples"].get_int_custom_property("span") == 0
    assert window.get_string_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"


def test_first_span_has_an_empty_previous_span_and_a_window_of_one(tmp_path):
    write_csv(tmp_path / "data" / "span-0" / "corpus.csv", generate_rows(40, seed=3))
    write_csv(tmp_path / "data" / "span-1" / "feedback.csv", generate_rows(10, seed=5))
    outputs = _run(tmp_path, window=1)
    assert outputs["examples"].get_string_custom_property("spans") == "1"
    window = _all(outputs["examples"])
    assert len(window) == 10  # span 0 is outside the window ...
    assert outputs["previous_examples"].get_int_custom_property("span") == 0  # ... but drift still sees it

    (tmp_path / "first").mkdir()
    write_csv(tmp_path / "first" / "data" / "span-0" / "corpus.csv", generate_rows(40, seed=3))
    first = _run(tmp_path / "first")
    assert first["previous_examples"].get_int_custom_property("span") == w.NO_SPAN
    assert _all(first["previous_examples"]) == []


def test_a_data_root_without_matching_files_names_it(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(FileNotFoundError, match="no CSV files match 'span-"):
        _run(tmp_path)


def test_written_files_are_gzipped_tfrecords(tmp_path):
    write_csv(tmp_path / "data" / "span-0" / "corpus.csv", generate_rows(20, seed=3))
    outputs = _run(tmp_path)
    files = list(Path(outputs["examples"].uri, "Split-train").glob("data_tfrecord-*.gz"))
    with gzip.open(files[0]) as handle:
        assert files and handle.read(1)
    with (tmp_path / "data" / "span-0" / "corpus.csv").open() as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 20


def _write(path: Path, rows: list[dict], columns: list[str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def test_executor_reads_train_and_eval_folders_documents_and_split_columns_as_plan_splits_does(tmp_path):
    """The Beam graph gives every row the split the in-memory rules give it; folders and columns are honoured."""
    corpus = generate_rows(140, seed=3)
    for i, row in enumerate(corpus):
        row["document"] = f"contract {i // 5}"
    columns = ["text", "label", "source", "document"]
    _write(tmp_path / "data" / "span-0" / "train" / "train.csv", corpus[:100], columns)
    _write(tmp_path / "data" / "span-0" / "eval" / "test.csv", corpus[100:], columns)
    feedback = generate_rows(30, seed=4, source="feedback")
    for i, row in enumerate(feedback):
        row["split"] = "eval" if i % 3 == 0 else "train"
    _write(tmp_path / "data" / "span-1" / "feedback.csv", feedback, ["text", "label", "source", "split"])
    outputs = _run(tmp_path)

    got = {split: _examples(outputs["examples"], split) for split in w.SPLITS}
    assert sum(map(len, got.values())) == 170
    assert all("split" not in row for rows in got.values() for row in rows)  # never a feature
    assert {row["document"] for row in got["eval"] if "document" in row} == {f"contract {i}" for i in range(20, 28)}
    assert sum(1 for row in got["eval"] if row["source"] == "feedback") == 10  # the split column's eval rows
    assert got["validation"] and all(row.get("document", "") not in {"contract 20"} for row in got["validation"])

    read = []
    for name in ("span-0/eval/test.csv", "span-0/train/train.csv", "span-1/feedback.csv"):
        read += w.parse_rows((tmp_path / "data" / name).read_text().splitlines(keepends=True), name, 0)
    expected = w.plan_splits(read, eval_percent=40, validation_percent=25, keep=2)
    key = lambda row: (row["text"], row["label"], row.get("document", ""))  # noqa: E731
    want = sorted((key(row), split) for row, split in zip(read, expected, strict=True))
    assert sorted((key(row), split) for split, rows in got.items() for row in rows) == want


def test_executor_stops_on_a_document_in_both_train_and_eval_folders(tmp_path):
    rows = generate_rows(20, seed=3)
    for row in rows:
        row["document"] = "the same contract"
    _write(tmp_path / "data" / "span-0" / "train" / "a.csv", rows[:10], ["text", "label", "document"])
    _write(tmp_path / "data" / "span-0" / "eval" / "b.csv", rows[10:], ["text", "label", "document"])
    # The class survives Beam, so lexflow/runs/local_run.py reports it as a data error (exit 2).
    with pytest.raises(
        w.MalformedCsv, match=r"document 'the same contract' is given both train \(.*/train/a\.csv row 2"
    ):
        _run(tmp_path)
