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


def _all_span_rows(data_root: Path) -> list[tuple[int, str]]:
    found = []
    for path in sorted(data_root.glob("span-*/*.csv")):
        span = int(path.parent.name.split("-")[1])
        found.extend((span, row["text"]) for row in _rows(path))
    return found


def test_concurrent_writers_and_exporters_on_two_stores_export_every_row_exactly_once(store_url, tmp_path):
    """16 writers and 4 exporters on two store objects (two replicas) sharing one database."""
    import threading

    from sqlalchemy import select

    from feedback.tables import ExportRow

    replicas = [FeedbackStore(store_url), FeedbackStore(store_url)]
    data_root = tmp_path / "data"
    acked: list[tuple[int, str]] = []
    failures: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def write(n: int) -> None:
        store = replicas[n % 2]
        for i in range(25):
            text = f"writer {n} row {i}"
            try:
                acked.append((store.add_feedback("a", text=text).id, text))
            except BaseException as exc:  # collected and asserted below
                failures.append(exc)

    def export(n: int) -> None:
        while writing.is_set():
            try:
                export_feedback(replicas[n % 2], data_root, wait_seconds=30)
            except BaseException as exc:
                failures.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    exporters = [threading.Thread(target=export, args=(n,)) for n in range(4)]
    for thread in exporters + writers:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in exporters:
        thread.join()
    export_feedback(replicas[0], data_root)  # what was left

    assert not failures, failures[:3]
    exported = _all_span_rows(data_root)
    assert len(acked) == 16 * 25
    assert sorted(text for _, text in exported) == sorted(text for _, text in acked)  # each exactly once
    with replicas[0].session() as session:
        exports = list(session.scalars(select(ExportRow)))
    assert all(e.completed for e in exports) and len({e.span for e in exports}) == len(exports)
    assert sum(e.rows for e in exports) == len(acked)
    assert {e.span for e in exports} == {span for span, _ in exported}  # no export without its span, or twice
    assert replicas[1].pending_count() == 0
    assert not list(data_root.rglob("*.tmp"))


def test_spans_come_from_the_store_and_never_reuse_a_number(store, tmp_path):
    data_root = tmp_path / "data"
    store.add_feedback("a", text="First.")
    first = export_feedback(store, data_root)
    import shutil

    shutil.rmtree(data_root / f"span-{first.span}")  # someone deleted (or moved) the folder
    store.add_feedback("a", text="Second.")
    assert export_feedback(store, data_root).span == first.span + 1


def test_a_busy_export_lock_is_an_error_after_the_wait(store, tmp_path):
    from feedback.export import ExportBusy
    from feedback.export_lock import export_lock

    store.add_feedback("a", text="Row.")
    with export_lock(store.engine, 0), pytest.raises(ExportBusy, match="another export is in progress"):
        export_feedback(store, tmp_path / "data", wait_seconds=0.2)
    assert export_feedback(store, tmp_path / "data", wait_seconds=0.2).rows == 1


def test_within_one_export_the_latest_correction_of_a_prediction_wins(store, tmp_path):
    (prediction_id,) = store.log_predictions("lexflow", 7, "production", ["Clause."], ["a"], [{}])
    store.add_feedback("b", prediction_id=prediction_id)
    store.add_feedback("c", prediction_id=prediction_id)
    result = export_feedback(store, tmp_path / "data")
    assert (result.claimed, result.rows) == (2, 1)
    assert _rows(result.path) == [{"text": "Clause.", "label": "c", "source": "feedback"}]
    store.add_feedback("a", prediction_id=prediction_id)  # after the export: the next span has it
    assert _rows(export_feedback(store, tmp_path / "data").path) == [
        {"text": "Clause.", "label": "a", "source": "feedback"}
    ]


def test_export_into_a_flat_data_root_is_refused_and_claims_nothing(store, tmp_path):
    """A span folder beside flat CSVs would make the next run read the feedback only (the corpus gone)."""
    from feedback.export import FlatDataRoot, pending_feedback
    from feedback.store import InvalidFeedback

    data_root = tmp_path / "flat"
    data_root.mkdir()
    (data_root / "train.csv").write_text("text,label\nx,a\n")
    store.add_feedback("a", text="A correction.")
    with pytest.raises(FlatDataRoot, match=r"holds its CSVs at the top level \(train\.csv\).*move the CSVs into"):
        export_feedback(store, data_root)
    assert issubclass(FlatDataRoot, InvalidFeedback)  # the gateway answers it as a 4xx with this message
    assert [p.name for p in data_root.iterdir()] == ["train.csv"] and len(pending_feedback(store)) == 1


def test_feedback_on_a_reviewed_document_keeps_its_document_id(store, tmp_path):
    """A corrected contract's provisions carry its id into the span, so ExampleGen keeps them in one split."""
    from feedback import review
    from feedback.store import prediction_rows

    (first, second), rows = prediction_rows("lexflow", 7, "production", ["One.", "Two."], ["a", "b"], [{}, {}])
    document = review.save_document(store, "contract.pdf", ["1.", "2."], rows)
    ids = [first, second, *store.log_predictions("lexflow", 7, "production", ["Loose."], ["a"], [{}])]
    for prediction_id in ids:
        store.add_feedback("b", prediction_id=prediction_id)
    store.add_feedback("c", text="Never predicted.")
    rows = _rows(export_feedback(store, tmp_path / "data").path)
    assert [r["document"] for r in rows] == [
        f"review:{document}",
        f"review:{document}",
        f"prediction:{ids[2]}",  # API predictions and free-text feedback are documents of their own
        rows[3]["document"],
    ]
    assert rows[3]["document"].startswith("feedback:") and all(r["source"] == "feedback" for r in rows)
