"""The user's own evaluation data (core/splits.py, core/spans.py): the rules, and the preflight's check of them."""

import subprocess
import sys
from pathlib import Path

import pytest

from core.spans import csv_files, resolve_input_pattern, span_files, span_of_path, window_files, with_split_folders
from core.splits import SplitError, check_data_splits, folder_split, row_split

REPO = Path(__file__).resolve().parents[2]
COLUMNS = ["text", "label", "document", "split"]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_split_folders_belong_to_their_span_and_to_a_flat_root():
    assert with_split_folders("span-{SPAN}/*.csv") == [
        "span-{SPAN}/*.csv",
        "span-{SPAN}/train/*.csv",
        "span-{SPAN}/eval/*.csv",
    ]
    assert with_split_folders("*.csv") == ["*.csv", "train/*.csv", "eval/*.csv"]
    assert span_of_path("span-3/train/a.csv", "span-{SPAN}/*.csv") == 3
    assert span_of_path("span-3/eval/b.csv", "span-{SPAN}/*.csv") == 3
    assert span_of_path("span-3/other/b.csv", "span-{SPAN}/*.csv") is None
    assert span_of_path("span-3/train/x/b.csv", "span-{SPAN}/*.csv") is None
    assert (folder_split("span-0/train/a.csv"), folder_split("span-0/eval/a.csv")) == ("train", "eval")
    assert folder_split("span-0/a.csv") is None and folder_split("eval.csv") is None


def test_span_files_and_the_window_read_the_split_folders(tmp_path):
    for name in ("span-0/train/a.csv", "span-0/eval/b.csv", "span-1/f.csv", "span-2/g.csv", "span-2/notes/x.csv"):
        _write(tmp_path / name, "text,label\nx,y\n")
    spans = span_files(tmp_path, "span-{SPAN}/*.csv")
    assert {s: [p.relative_to(tmp_path).as_posix() for p in ps] for s, ps in spans.items()} == {
        0: ["span-0/eval/b.csv", "span-0/train/a.csv"],
        1: ["span-1/f.csv"],
        2: ["span-2/g.csv"],
    }
    assert [p.name for p in window_files(tmp_path, "span-{SPAN}/*.csv", 1)] == ["f.csv", "g.csv"]  # + the previous
    assert len(window_files(tmp_path, "span-{SPAN}/*.csv", 0)) == 4
    flat = tmp_path / "flat"
    _write(flat / "train" / "t.csv", "text,label\nx,y\n")
    _write(flat / "eval" / "e.csv", "text,label\nx,y\n")
    assert resolve_input_pattern(flat) == "*.csv"
    assert [p.relative_to(flat).as_posix() for p in csv_files(flat, "*.csv")] == ["eval/e.csv", "train/t.csv"]


@pytest.mark.parametrize(
    "row, folder, expected",
    [
        ({"text": "a", "label": "x", "document": "d", "split": " Eval "}, None, "eval"),
        ({"text": "a", "label": "x", "document": "d", "split": "train"}, "train", "train"),
        ({"text": "a", "label": "x", "document": "d"}, "eval", "eval"),  # (a file without the split column)
    ],
)
def test_a_rows_split_comes_from_its_column_or_its_folder(row, folder, expected):
    columns = COLUMNS if "split" in row else COLUMNS[:3]
    assert row_split(row, columns, folder, ("a.csv", 2)) == expected
    assert row_split({"text": "a", "label": "x"}, ["text", "label"], None, ("a.csv", 2)) is None


@pytest.mark.parametrize(
    "row, folder, message",
    [
        ({"text": "a", "label": "x", "document": "d", "split": "test"}, None, "unknown split 'test'"),
        ({"text": "a", "label": "x", "document": "d"}, None, "unknown split ''"),  # an empty split cell
        ({"text": "a", "label": "x", "split": "train"}, None, "empty document id"),
        ({"text": "a", "label": "x", "document": "  ", "split": "train"}, None, "empty document id"),
        (
            {"text": "a", "label": "x", "document": "d", "split": "eval"},
            "train",
            "split 'eval' in a file under the train/",
        ),
    ],
)
def test_bad_values_name_the_file_and_the_row(row, folder, message):
    with pytest.raises(SplitError, match=rf"^span-0/a\.csv row 7: {message}"):
        row_split(row, COLUMNS, folder, ("span-0/a.csv", 7))


def test_preflight_check_finds_a_document_in_both_folders(tmp_path):
    _write(tmp_path / "span-0" / "train" / "t.csv", "text,label,document\na,x,c1\nb,y,c2\nc,x,c3\n")
    _write(tmp_path / "span-0" / "eval" / "e.csv", "text,label,document\nd,x,c4\ne,y,c2\n")
    files = window_files(tmp_path, "span-{SPAN}/*.csv", 0)
    with pytest.raises(SplitError, match=r"document 'c2' is given both train \(.*span-0/train/t\.csv row 3\) and eval"):
        check_data_splits(tmp_path, files)
    _write(tmp_path / "span-0" / "eval" / "e.csv", "text,label,document\nd,x,c4\ne,y,c5\n")
    check_data_splits(tmp_path, files)  # fixed: passes


def test_preflight_check_finds_a_label_only_the_eval_data_has(tmp_path):
    _write(tmp_path / "span-0" / "c.csv", "text,label,split\na,x,train\nb,y,eval\nc,x,eval\n")
    with pytest.raises(SplitError, match=r"label 'y' has rows only in the eval data \(first: .*span-0/c\.csv row 3\)"):
        check_data_splits(tmp_path, [tmp_path / "span-0" / "c.csv"])
    # A document given eval in one file takes its rows in another file with it.
    _write(tmp_path / "span-0" / "c.csv", "text,label,document,split\na,x,d1,train\nb,y,d2,eval\n")
    _write(tmp_path / "span-1" / "f.csv", "text,label,document\nc,y,d2\n")
    with pytest.raises(SplitError, match=r"label 'y' has rows only in the eval data"):
        check_data_splits(tmp_path, [tmp_path / "span-0" / "c.csv", tmp_path / "span-1" / "f.csv"])


def test_preflight_check_reads_only_headers_of_plain_data(tmp_path, monkeypatch):
    path = _write(tmp_path / "span-0" / "c.csv", "text,label\na,x\n")
    monkeypatch.setattr("core.splits.csv_records", lambda *a: pytest.fail("a plain data root is not read in full"))
    check_data_splits(tmp_path, [path])


def test_the_cli_stops_on_a_bad_split_value_with_one_error_line(tmp_path):
    _write(tmp_path / "data" / "span-0" / "d.csv", "text,label,split\nx,governing_law,train\ny,termination,holdout\n")
    # Relative outputs (pipeline root, metadata, serving dir) land in the working directory: tmp_path.
    cli = [sys.executable, str(REPO / "local_runner.py"), "--data-root", str(tmp_path / "data")]
    result = subprocess.run(cli, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "span-0/d.csv row 3: unknown split 'holdout'" in errors[0], result.stderr[-2000:]
    assert not list(tmp_path.rglob("Split-*"))  # stopped before ExampleGen wrote anything
