"""SpanExampleGen: the window of spans, read at run time from the files, with a label-aware split."""

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


def test_every_label_keeps_its_first_rows_on_the_training_side():
    """Whatever the hashes do, a label with >= 2 rows has >= 2 training rows (never eval-only)."""
    rows = [{"text": f"text {i}", "label": f"label{i % 7}"} for i in range(40)]
    rows += [{"text": "rare one", "label": "rare"}, {"text": "rare two", "label": "rare"}]
    rows += [{"text": "dup", "label": "dups"}] * 3  # exact duplicates share a hash
    hashes = {}
    for row in rows:
        hashes.setdefault(row["label"], []).append(w.row_hash(row))
    floors = w.label_floors(hashes, keep=2)
    for eval_percent in (20, 50, 99):
        split = [(row["label"], w.assign_split(w.row_hash(row), floors[row["label"]], eval_percent)) for row in rows]
        for label in hashes:
            assert sum(1 for lab, s in split if lab == label and s == w.TRAIN) >= 2, (label, eval_percent)
    assert w.row_hash({"text": "a", "label": "x"}) == w.row_hash({"label": "x", "text": "a", "__span__": "3"})


def test_csv_rows_quoted_newlines_empty_cells_and_a_malformed_row():
    text = 'text,label,source\n"two\nlines",governing_law,\nshort,termination,corpus\n'
    rows = w.parse_rows(text.splitlines(keepends=True), "span-1/f.csv", 1)
    assert rows == [
        {"text": "two\nlines", "label": "governing_law", "__span__": "1"},  # empty cell: left out
        {"text": "short", "label": "termination", "source": "corpus", "__span__": "1"},
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
    rows = {split: _examples(window, split) for split in ("train", "eval")}
    assert len(rows["train"]) + len(rows["eval"]) == 150 and rows["eval"]  # nothing lost, some held out
    train_labels = [r["label"] for r in rows["train"]]
    assert train_labels.count("escrow") == 2 and "only_once" in train_labels  # rare labels all train
    assert window.get_string_custom_property("spans") == "1,0" and window.span == 1
    assert window.get_string_custom_property("single_row_labels") == "only_once"
    counts = json.loads(window.get_string_custom_property("label_counts"))
    assert counts["escrow"] == {"train": 2} and sum(sum(c.values()) for c in counts.values()) == 150
    newest = _examples(outputs["newest_examples"], "train") + _examples(outputs["newest_examples"], "eval")
    previous = _examples(outputs["previous_examples"], "train") + _examples(outputs["previous_examples"], "eval")
    assert len(newest) == 30 and {r["source"] for r in newest} == {"feedback"}
    assert len(previous) == 120 and outputs["previous_examples"].get_int_custom_property("span") == 0
    assert window.get_string_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"


def test_first_span_has_an_empty_previous_span_and_a_window_of_one(tmp_path):
    write_csv(tmp_path / "data" / "span-0" / "corpus.csv", generate_rows(40, seed=3))
    write_csv(tmp_path / "data" / "span-1" / "feedback.csv", generate_rows(10, seed=5))
    outputs = _run(tmp_path, window=1)
    assert outputs["examples"].get_string_custom_property("spans") == "1"
    window = _examples(outputs["examples"], "train") + _examples(outputs["examples"], "eval")
    assert len(window) == 10  # span 0 is outside the window ...
    assert outputs["previous_examples"].get_int_custom_property("span") == 0  # ... but drift still sees it

    (tmp_path / "first").mkdir()
    write_csv(tmp_path / "first" / "data" / "span-0" / "corpus.csv", generate_rows(40, seed=3))
    first = _run(tmp_path / "first")
    assert first["previous_examples"].get_int_custom_property("span") == w.NO_SPAN
    assert _examples(first["previous_examples"], "train") + _examples(first["previous_examples"], "eval") == []


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
