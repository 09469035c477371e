"""Smoke test of benchmarks/quality.py: imports, CLI help, metric and baseline helpers on toy data.

No pipeline run and no real dataset: the benchmark itself is `python -m benchmarks.quality`.
"""
import json

import pytest

from benchmarks import quality


def test_cli_help_lists_the_options():
    from typer.testing import CliRunner

    result = CliRunner().invoke(quality.app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    for option in ("--dataset", "--train-steps", "--out", "--config", "--work-dir"):
        assert option in result.output


def test_unknown_dataset_is_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(quality.app, ["--dataset", "nope", "--datasets-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_classification_metrics_on_a_toy_input():
    pytest.importorskip("sklearn")
    y_true = ["a", "a", "b", "b", "none", "none", "none", "none"]
    y_pred = ["a", "b", "b", "b", "none", "none", "none", "a"]
    m = quality.classification_metrics(y_true, y_pred, negative_label="none", train_counts={"a": 60, "b": 10, "none": 80})
    assert m["examples"] == 8 and m["classes"] == 3
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["micro_f1"] == pytest.approx(6 / 8)  # single-label: micro-F1 == accuracy
    # a: P 1/2 R 1/2 F 1/2; b: P 2/3 R 1 F 0.8; none: P 1 R 3/4 F 6/7
    f1 = {"a": 0.5, "b": 0.8, "none": 6 / 7}
    for label, value in f1.items():
        assert m["per_class"][label]["f1"] == pytest.approx(value)
    assert m["per_class"]["none"]["support"] == 4
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx(sum(f1.values()) / 3)
    assert m["macro_f1_without_negative"] == pytest.approx((0.5 + 0.8) / 2)
    assert m["macro_f1_frequent"] == pytest.approx((0.5 + 6 / 7) / 2)  # classes with >= 50 train rows
    assert m["frequent_classes"] == 2


def test_a_class_only_predicted_counts_in_macro_f1():
    pytest.importorskip("sklearn")
    m = quality.classification_metrics(["a", "a"], ["a", "c"])
    assert m["classes"] == 2 and m["per_class"]["c"]["f1"] == 0.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)
    with pytest.raises(ValueError):
        quality.classification_metrics(["a"], ["a", "b"])


def test_baseline_learns_a_separable_toy_task():
    pytest.importorskip("sklearn")
    train_texts = [f"governed by the laws of state {i}" for i in range(6)] + [f"shall not assign this agreement {i}" for i in range(6)]
    train_labels = ["governing_law"] * 6 + ["anti_assignment"] * 6
    test = ["this agreement is governed by the laws of delaware", "party may not assign this agreement"]
    predictions, seconds = quality.run_baseline(train_texts, train_labels, test)
    assert predictions == ["governing_law", "anti_assignment"]
    assert seconds >= 0


def test_config_overrides_layering_and_forced_paths(tmp_path):
    file_data = {"train": {"hidden_units": 256}, "per_dataset": {"unfair_tos_en": {"train": {"dropout": 0.3}}}}
    unfair = quality.config_overrides("unfair_tos_en", file_data, train_steps=123)
    assert unfair["train"] == {"hidden_units": 256, "dropout": 0.3, "train_steps": 123}
    assert unfair["thresholds"]["min_macro_f1"] == quality.BENCHMARK_OVERRIDES["unfair_tos_en"]["thresholds"]["min_macro_f1"]
    cuad = quality.config_overrides("cuad_clauses", file_data, train_steps=None)
    assert cuad == {"train": {"hidden_units": 256}}
    assert file_data["per_dataset"]  # input untouched

    train_csv = tmp_path / "ds" / "train.csv"
    train_csv.parent.mkdir()
    train_csv.write_text("text,label\nsome text,a\n")
    root = quality.prepare_data_root(tmp_path / "work", "ds", tmp_path / "ds")
    assert (root / "span-0" / "train.csv").is_symlink()
    config = quality.build_config("ds", tmp_path / "work", root, {**cuad, "enable_cache": True, "pipeline_root": "/elsewhere"})
    assert config.train.hidden_units == 256 and config.dataset_name == "ds"
    assert config.pipeline_root == tmp_path / "work" / "pipeline" and config.enable_cache is False


def test_results_are_written_as_json_and_markdown(tmp_path):
    pytest.importorskip("sklearn")
    metrics = quality.classification_metrics(["a", "b"], ["a", "b"], train_counts={"a": 1, "b": 1})
    record = {"dataset": "toy", "train_rows": 2, "test_rows": 2, "classes": 2, "train_counts": {"a": 1, "b": 1},
              "baseline": {"train_rows": 2, "seconds": 0.1, "metrics": metrics}, "pipeline": None}
    quality.write_results(tmp_path, [record])
    data = json.loads((tmp_path / quality.RESULTS_JSON).read_text())
    assert data["datasets"]["toy"]["baseline"]["metrics"]["accuracy"] == 1.0
    markdown = (tmp_path / quality.RESULTS_MD).read_text()
    assert "| toy | TF-IDF + LinearSVC (full train) | 2 | 1.000" in markdown
