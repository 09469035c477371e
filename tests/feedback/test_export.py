"""Feedback export: a new span ExampleGen can read, idempotent, resumable after a crash."""

import csv
from pathlib import Path

import pytest

from feedback import export as export_module
from feedback.export import export_feedback
from feedback.store import FeedbackStore


@pytest.fixture
def store(tmp_path):
    return FeedbackStore(f"sqlite:///{tmp_path}/fb.sqlite")


def _rows(path: Path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_writes_next_span_once_and_continues_after_it(store, tmp_path):
    data_root = tmp_path / "data"
    (data_root / "span-0").mkdir(parents=True)
    ids = store.log_predictions("lexflow", 7, "production", ["Clause one.", "Clause\ntwo."], ["a", "b"], [{}, {}])
    store.add_feedback("b", prediction_id=ids[0])
    store.add_feedback("b", prediction_id=ids[1])
    store.add_feedback("c", text="Never predicted.")

    first = export_feedback(store, data_root)
    assert first.span == 1 and first.rows == 3
    assert _rows(data_root / "span-1" / "feedback.csv") == [
        {"text": "Clause one.", "label": "b", "source": "feedback"},
        {"text": "Clause two.", "label": "b", "source": "feedback"},
        {"text": "Never predicted.", "label": "c", "source": "feedback"},
    ]
    again = export_feedback(store, data_root)
    assert again.span is None and again.rows == 0 and not (data_root / "span-2").exists()

    store.add_feedback("a", text="Later feedback.")
    later = export_feedback(store, data_root)
    assert later.span == 2 and [r["text"] for r in _rows(later.path)] == ["Later feedback."]


def test_min_rows_defers_small_exports(store, tmp_path):
    store.add_feedback("a", text="Only one.")
    assert export_feedback(store, tmp_path / "data", min_rows=2).span is None
    store.add_feedback("a", text="Now two.")
    assert export_feedback(store, tmp_path / "data", min_rows=2).rows == 2


def test_crash_during_write_is_finished_by_the_next_export(store, tmp_path, monkeypatch):
    data_root = tmp_path / "data"
    store.add_feedback("a", text="Row one.")

    def crash(path, rows):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "_write_span", crash)
    with pytest.raises(OSError):
        export_feedback(store, data_root)
    store.add_feedback("a", text="Arrived after the crash.")
    monkeypatch.undo()

    resumed = export_feedback(store, data_root)
    assert resumed.span == 0 and [r["text"] for r in _rows(resumed.path)] == ["Row one."]
    following = export_feedback(store, data_root)
    assert following.span == 1 and [r["text"] for r in _rows(following.path)] == ["Arrived after the crash."]
