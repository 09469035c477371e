"""The lineage record `lexflow run` writes for the gateway's models page (core/reports.py)."""

from pathlib import Path

from core.reports import read_lineage
from lexflow.reports.run_summary import DriftInfo, EvalMetrics, RunSummary, publish_lineage


def _summary(**changes) -> RunSummary:
    fields = {
        "run_id": "run-1",
        "components": [],
        "metrics": EvalMetrics(accuracy=0.9, macro_f1=0.8, baseline_accuracy=0.85),
        "blessed": True,
        "pushed_version": "1700000000",
        "pushed_path": "/models/lexflow/1700000000",
        "already_served": False,
        "metadata_path": Path("/m.sqlite"),
        "pipeline_root": Path("/p"),
        "spans": [1, 2],
        "new_span": 2,
        "drift": DriftInfo(span=2, baseline_span=1, drifted=False, summary="no drift: label linf 0.010 <= 0.2"),
    }
    fields.update(changes)
    return RunSummary(**fields)


def test_a_new_push_writes_spans_evaluation_and_blessing(tmp_path):
    assert publish_lineage(_summary(), tmp_path) is not None
    record = read_lineage(tmp_path, 1700000000)
    assert record["spans"] == [1, 2] and record["blessed"] is True and record["run_id"] == "run-1"
    assert record["evaluation"]["accuracy"] == 0.9 and record["evaluation"]["baseline_accuracy"] == 0.85
    assert record["drift"].startswith("no drift")


def test_nothing_pushed_or_already_served_writes_nothing(tmp_path):
    assert publish_lineage(_summary(pushed_version=None), tmp_path) is None
    assert publish_lineage(_summary(already_served=True), tmp_path) is None
    assert read_lineage(tmp_path, 1700000000) is None and not list(tmp_path.iterdir())
