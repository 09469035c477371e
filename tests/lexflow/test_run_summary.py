"""The run summary's rendering (the MLMD reading is covered by tests/e2e/test_pipeline.py)."""

from pathlib import Path

from rich.console import Console

from lexflow.reports.run_summary import RunSummary, render


def _summary(**fields) -> RunSummary:
    defaults = {"metrics": None, "blessed": None, "pushed_version": None, "pushed_path": None}
    return RunSummary(
        run_id="r1",
        components=[],
        already_served=False,
        metadata_path=Path("m.sqlite"),
        pipeline_root=Path("p"),
        **{**defaults, **fields},
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


def test_the_gate_is_explained_with_its_numbers():
    """Each check with value, threshold, production's value and the drop allowed; a refusal says which."""
    from lexflow.reports.run_summary import EvalMetrics, GateCheck

    metrics = EvalMetrics(accuracy=0.812, macro_f1=0.79, baseline_accuracy=0.825, baseline_macro_f1=0.795)
    gate = [
        GateCheck("accuracy", 0.812, 0.6, 0.825, 0.01),
        GateCheck("macro-F1", 0.79, 0.5, 0.795, 0.01),
    ]
    text = _rendered(_summary(metrics=metrics, gate=gate, blessed=False))
    assert "gate: accuracy 0.812  threshold >= 0.600 pass  production 0.825, drop +0.013 (allowed 0.010) FAIL" in text
    assert "gate: macro-F1 0.790  threshold >= 0.500 pass  production 0.795, drop +0.005 (allowed 0.010) pass" in text
    assert "blessed: no: accuracy dropped 0.013 against production (0.825), 0.010 allowed (model not pushed)" in text

    first = [GateCheck("accuracy", 0.55, 0.6), GateCheck("macro-F1", 0.7, 0.5)]
    text = _rendered(_summary(gate=first, blessed=False))
    assert "gate: accuracy 0.550  threshold >= 0.600 FAIL" in text
    assert "blessed: no: accuracy 0.550 below the threshold 0.600" in text


def test_every_search_trial_is_listed_with_its_scores():
    scores = ("validation_accuracy", "validation_macro_f1")
    chosen = {"model": "linear SVM, C=0.25", **dict(zip(scores, (0.857, 0.846), strict=True)), "seconds": 1.3}
    other = {"model": "MLP 512, dropout 0.5", **dict(zip(scores, (0.841, 0.828), strict=True)), "seconds": 2.3}
    report = {
        "summary": "model search: linear SVM, C=0.25; 2 trials in 4 s",
        "chosen": chosen,
        "trials": [chosen, other],
        "skipped": [{"model": "MLP 512, dropout 0.25", "estimated_seconds": 40.0}],
        "selection": {"objective": "validation macro-F1", "min_gain_se": 2.0, "max_accuracy_drop": 0.005},
    }
    text = _rendered(_summary(model_search=report))
    assert "trial 1: linear SVM, C=0.25: validation accuracy 0.857, macro-F1 0.846, 1.3 s  <- chosen" in text
    assert "trial 2: MLP 512, dropout 0.5: validation accuracy 0.841, macro-F1 0.828, 2.3 s\n" in text
    assert "not tried (budget): MLP 512, dropout 0.25 (~40 s)" in text and "2 standard errors" in text


def test_labels_with_commas_stay_readable():
    from lexflow.reports.run_summary import EvalMetrics

    metrics = EvalMetrics(accuracy=0.9, macro_f1=0.8, per_class_f1={"IP, Licensing": 0.5, "Fees / Invoicing": 0.9})
    assert "per-class F1 (lowest first): 'IP, Licensing' 0.50; 'Fees / Invoicing' 0.90" in _rendered(
        _summary(metrics=metrics)
    )


def test_the_gate_lists_every_thresholded_metric_of_the_eval_config():
    """Both blessing metrics of pipeline/eval_config.py, and Keras' accuracy of older evaluations."""
    import tensorflow_model_analysis as tfma

    from lexflow.reports.evaluation_report import thresholds
    from lexflow.reports.run_summary import EvalMetrics, gate_checks
    from pipeline.config import EvalThresholds
    from pipeline.eval_config import build_eval_config

    config = build_eval_config(3, EvalThresholds(), ["source"])
    checks = gate_checks(config, EvalMetrics(accuracy=0.9, macro_f1=0.8))
    assert [(c.metric, c.value, c.threshold) for c in checks] == [("accuracy", 0.9, 0.6), ("macro-F1", 0.8, 0.5)]
    assert list(thresholds(config)["metric"]) == ["accuracy", "macro_f1"]

    older = tfma.EvalConfig()
    older.CopyFrom(config)
    older.metrics_specs[0].metrics[1].class_name = "SparseCategoricalAccuracy"
    assert [c.metric for c in gate_checks(older, EvalMetrics(accuracy=0.9, macro_f1=0.8))] == ["accuracy", "macro-F1"]
