"""The run summary's rendering (the MLMD reading is covered by tests/e2e/test_pipeline.py)."""

from pathlib import Path

from rich.console import Console

from lexflow.reports.run_summary import RunSummary, render


def _summary(**fields) -> RunSummary:
    return RunSummary(
        run_id="r1",
        components=[],
        metrics=None,
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
