"""The run summary's rendering (the MLMD reading is covered by tests/e2e/test_pipeline.py)."""

from pathlib import Path

from rich.console import Console

from lexflow.reports.run_summary import RunSummary, render


def _summary(**fields) -> RunSummary:
    return RunSummary(
        run_id="r1",
        components=[],
        metrics=fields.pop("metrics", None),
        blessed=None,
        pushed_version=None,
        pushed_path=None,
        already_served=False,
        metadata_path=Path("m.sqlite"),
        pipeline_root=Path("p"),
        **fields,
    )


def _rendered(summary: RunSummary) -> str:
    console = Console(record=True, width=200)
    render(summary, console)
    return console.export_text()


def test_the_model_search_line_is_shown_when_the_run_searched():
    line = "model search: linear SVM, C=0.25, balanced class weights; 5 trials in 79 s (budget 187 s; start-up 4 s)"
    assert line in _rendered(_summary(model_search={"summary": line, "trials": []}))
    assert "model search" not in _rendered(_summary())  # tuning.enabled: false


def test_validation_and_eval_scores_are_shown_side_by_side():
    from lexflow.metadata.validation import ValidationScores
    from lexflow.reports.run_summary import EvalMetrics, lineage_record

    validation = ValidationScores(489, 0.9104, 0.9031, 0.253, "search's chosen trial (trained on train)")
    summary = _summary(
        validation=validation,
        metrics=EvalMetrics(accuracy=0.9081, macro_f1=0.9027, baseline_accuracy=0.9, baseline_macro_f1=0.89),
        split_rows={"train": 1934, "validation": 489, "eval": 577},
    )
    lines = _rendered(summary).splitlines()
    [validation_line] = [line for line in lines if "validation" in line and "489" in line]
    [eval_line] = [line for line in lines if line.strip("│ ").startswith("eval ")]
    assert "0.910" in validation_line and "0.903" in validation_line and "temperature 0.253" in validation_line
    assert "577" in eval_line and "0.908" in eval_line and "0.903" in eval_line
    assert any("baseline on eval" in line and "0.890" in line for line in lines)
    assert lineage_record(summary)["validation"]["macro_f1"] == 0.9031  # the models page gets it too
