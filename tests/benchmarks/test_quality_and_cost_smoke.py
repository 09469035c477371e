"""Smoke tests of the benchmarks (benchmarks/quality.py, benchmarks/pipeline_cost.py).

They start the CLIs (help, a baseline-only run of the quality benchmark on a toy dataset, a dry
run of the cost benchmark) and check the helpers that turn measurements into numbers. No
pipeline runs and no real dataset: the benchmarks themselves are `python -m benchmarks.<name>`
(BENCHMARKS.md). Each test takes seconds.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks import pipeline_cost, quality
from pipeline.config import PipelineConfig

REPO = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def _toy_dataset(root: Path, name: str = "toy") -> Path:
    """A separable two-class dataset in the benchmark's `<name>/{train,test}.csv` layout."""
    folder = root / name
    folder.mkdir(parents=True)
    law = [f"this agreement is governed by the laws of state number {i}" for i in range(12)]
    assign = [f"neither party may assign this agreement without consent under clause {i}" for i in range(12)]
    rows = ["text,label", *[f"{t},governing_law" for t in law[:9]], *[f"{t},anti_assignment" for t in assign[:9]]]
    (folder / "train.csv").write_text("\n".join(rows) + "\n")
    test = ["text,label", *[f"{t},governing_law" for t in law[9:]], *[f"{t},anti_assignment" for t in assign[9:]]]
    (folder / "test.csv").write_text("\n".join(test) + "\n")
    return folder


# --------------------------------------------------------------------------------------------
# quality
# --------------------------------------------------------------------------------------------


def test_quality_cli_help_lists_the_options():
    result = CliRunner().invoke(quality.app, ["--help"], env=ENV)
    assert result.exit_code == 0, result.output
    options = ("--dataset", "--train-steps", "--out", "--config", "--dataset-configs", "--work-dir", "--skip-pipeline")
    for option in options:
        assert option in result.output


def test_quality_unknown_dataset_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        quality.app, ["--dataset", "nope", "--datasets-dir", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no dataset folder" in result.output
    assert not (tmp_path / "o").exists()


def test_quality_baseline_only_run_writes_results(tmp_path):
    """The CLI end to end without the pipeline: read splits, fit and score the baseline, write both files."""
    _toy_dataset(tmp_path / "datasets")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        quality.app,
        ["--dataset", "toy", "--datasets-dir", str(tmp_path / "datasets"), "--out", str(out), "--skip-pipeline"],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / quality.RESULTS_JSON).read_text())["datasets"]["toy"]
    assert record["baseline"]["metrics"]["accuracy"] == 1.0 and record["baseline"]["train_rows"] == 18
    assert record["test_rows"] == 6 and record["pipeline"] is None
    assert "| toy | TF-IDF + LinearSVC (full train) | 18 | 1.000" in (out / quality.RESULTS_MD).read_text()


def test_classification_metrics_on_a_toy_input():
    y_true = ["a", "a", "b", "b", "none", "none", "none", "none"]
    y_pred = ["a", "b", "b", "b", "none", "none", "none", "a"]
    m = quality.classification_metrics(
        y_true, y_pred, negative_label="none", train_counts={"a": 60, "b": 10, "none": 80}
    )
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
    m = quality.classification_metrics(["a", "a"], ["a", "c"])
    assert m["classes"] == 2 and m["per_class"]["c"]["f1"] == 0.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)
    with pytest.raises(ValueError):
        quality.classification_metrics(["a"], ["a", "b"])


def test_config_layering_and_forced_paths(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "ds.json").write_text(json.dumps({"train": {"hidden_units": 256, "dropout": 0.3}, "eval_fraction": 0.1}))
    file_data = {"train": {"hidden_units": 128}}
    # By default no per-dataset settings at all: the pipeline's defaults and its model search.
    assert quality.config_overrides("ds", {}, None, configs_dir=configs) == {}
    assert quality.config_overrides("ds", file_data, None, configs_dir=configs) == file_data
    merged = quality.config_overrides("ds", file_data, train_steps=123, configs_dir=configs, dataset_configs=True)
    # dataset file (only with --dataset-configs) < --config file < --train-steps
    assert merged == {"train": {"hidden_units": 128, "dropout": 0.3, "train_steps": 123}, "eval_fraction": 0.1}
    assert quality.config_overrides("other", {}, None, configs_dir=configs, dataset_configs=True) == {}
    assert file_data == {"train": {"hidden_units": 128}}  # input untouched

    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "train.csv").write_text("text,label\nsome text,a\n")
    root = quality.prepare_data_root(tmp_path / "work", "ds", tmp_path / "ds")
    assert (root / "span-0" / "train.csv").is_symlink()
    config = quality.build_config(
        "ds", tmp_path / "work", root, {**merged, "enable_cache": True, "pipeline_root": "/elsewhere"}
    )
    assert config.train.hidden_units == 128 and config.dataset_name == "ds" and config.eval_fraction == 0.1
    assert config.pipeline_root == tmp_path / "work" / "pipeline" and config.enable_cache is False


def test_proxy_datasets_are_derived_without_test_rows_in_train(tmp_path):
    from benchmarks import proxy_datasets

    source = tmp_path / "src"
    cuad = _toy_dataset(source, "cuad_clauses")
    tos = _toy_dataset(source, "unfair_tos_en")
    (tos / "train.csv").write_text((tos / "train.csv").read_text() + "we may change these terms,none\n")
    summary = proxy_datasets.make(source, tmp_path / "out", scale_rows=(200, 50), scale_classes=3)
    assert set(summary) == set(proxy_datasets.NAMES)
    assert summary["legal_mix"] == (36, 12, 2)  # the ToS `none` row left out
    assert summary["scale_proxy"] == (200, 50, 3)
    assert 0 < summary["cuad_half"][0] < 18 and summary["cuad_half"][1] == 6
    train = quality.read_split(tmp_path / "out" / "scale_proxy" / "train.csv")[0]
    test_texts = set(quality.read_split(cuad / "test.csv")[0])
    assert not any(text in row for row in train for text in test_texts)  # test rows come from test splits only


@pytest.mark.parametrize("path", sorted((REPO / "benchmarks" / "configs").glob("*.json")), ids=lambda p: p.name)
def test_checked_in_dataset_configs_are_pipeline_configs(path):
    """Each file is a plain pipeline config (`lexflow run --config` takes it) for a dataset with a curated schema."""
    config = PipelineConfig.load(path)
    assert config.train.train_steps >= 1
    assert (REPO / "schema" / path.stem / "schema.pbtxt").is_file()


# --------------------------------------------------------------------------------------------
# pipeline_cost
# --------------------------------------------------------------------------------------------


def test_cost_cli_help_lists_the_options():
    result = CliRunner().invoke(pipeline_cost.app, ["--help"], env=ENV)
    assert result.exit_code == 0, result.output
    for option in ("--scale", "--base-rows", "--compare-beam-at", "--cached-rerun", "--dry-run", "--out"):
        assert option in result.output


def test_cost_dry_run_generates_data_and_writes_no_results(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.pipeline_cost",
            "--scale",
            "1",
            "--scale",
            "2",
            "--base-rows",
            "20",
            "--compare-beam-at",
            "2",
            "--dry-run",
            "--work-dir",
            str(tmp_path / "w"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    for scale, rows in ((1, 20), (2, 40)):
        corpus = tmp_path / "w" / "data" / f"{scale}x" / "demo" / "span-0" / "corpus.csv"
        assert len(corpus.read_text().splitlines()) == rows + 1  # header
    assert "2x-multi_processing" in result.stdout and "1x-cached" in result.stdout
    assert not out.exists()


def test_cost_plan():
    specs = pipeline_cost.plan_runs([16, 1, 4], 3000, "in_memory", cached_rerun=True, compare_beam_at=16)
    assert [s.name for s in specs] == ["1x", "4x", "16x", "1x-cached", "16x-multi_processing"]
    assert specs[2].rows == 48000 and specs[3].cached and specs[4].beam_mode == "multi_processing"
    with pytest.raises(ValueError):
        pipeline_cost.plan_runs([1, 4], 3000, "in_memory", cached_rerun=False, compare_beam_at=16)
    with pytest.raises(ValueError):
        pipeline_cost.plan_runs([0], 3000, "in_memory", cached_rerun=False, compare_beam_at=None)


def test_linear_fit_recovers_fixed_cost_and_slope():
    fit = pipeline_cost.linear_fit([(3000, 70.0), (12000, 97.0), (48000, 205.0)])
    assert fit["fixed_seconds"] == pytest.approx(61.0)
    assert fit["seconds_per_1k_rows"] == pytest.approx(3.0)
    assert fit["max_relative_residual"] == pytest.approx(0.0, abs=1e-9)
    assert pipeline_cost.linear_fit([(3000, 70.0)]) is None


def test_growth_exponents_say_linear_fixed_or_superlinear():
    assert pipeline_cost.growth_exponent((1000, 4000), (10.0, 40.0)) == pytest.approx(1.0)
    assert pipeline_cost.growth_exponent((1000, 4000), (10.0, 10.0)) == pytest.approx(0.0)
    assert pipeline_cost.growth_exponent((1000, 4000), (10.0, 160.0)) == pytest.approx(2.0)
    assert pipeline_cost.growth_exponent((1000, 1000), (10.0, 20.0)) is None


def _scaled_run(scale, evaluator, rss, per_1k):
    comps = {"Evaluator": {"state": "COMPLETE", "seconds": evaluator}, "Pusher": {"state": "COMPLETE", "seconds": 0.1}}
    run = pipeline_cost.RunResult(
        f"{scale}x", scale, scale * 3000, "in_memory", False, [1.0] * 3, 50.0 + evaluator, rss, rss, 0, comps
    )
    run.evaluator_seconds_per_1k_eval_rows = per_1k
    return run


def test_targets_are_reported_met_or_not_with_their_numbers():
    runs = [_scaled_run(1, 3.0, 2000.0, 5.0), _scaled_run(4, 6.0, 2500.0, 2.5), _scaled_run(16, 48.0, 5000.0, 0.2)]
    exponents = pipeline_cost.growth_exponents(runs)
    assert exponents["Evaluator"] == {"1x->4x": pytest.approx(0.5), "4x->16x": pytest.approx(1.5)}
    assert "Pusher" not in exponents  # under MIN_GROWTH_SECONDS
    checks = pipeline_cost.target_checks(runs, exponents)
    assert checks[0].startswith("Evaluator <= 0.3 s per 1,000 eval rows from 16x: met (16x 0.20)")
    assert "NOT met: Evaluator 4x->16x 1.50" in checks[1]
    assert checks[2].startswith("Peak RSS of the process tree < 4 GiB: NOT met (largest 4.88 GiB at 16x)")


def test_peak_memory_counts_the_whole_process_tree(tmp_path):
    """A parent that holds ~60 MiB and a grandchild that holds ~150 MiB: the tree peak sees both."""
    script = textwrap.dedent("""
        import subprocess, sys, time
        held = bytearray(60 * 2**20)
        child = "b = bytearray(150 * 2**20); import time; time.sleep(1.5)"
        subprocess.run([sys.executable, "-c", child], check=True)
        print("done")
    """)
    stats = pipeline_cost.run_measured([sys.executable, "-c", script], tmp_path / "log.txt", interval=0.1)
    assert stats.returncode == 0 and "done" in (tmp_path / "log.txt").read_text()
    assert stats.peak_process_rss_mib >= 150
    assert stats.peak_tree_rss_mib >= 60 + 150
    assert stats.samples >= 5


def test_cost_report_renders_runs_components_and_fit(tmp_path):
    def run(name, scale, wall, trainer, cached=False):
        state = "CACHED" if cached else "COMPLETE"
        comps = {
            "ExampleGen": {"state": state, "seconds": wall / 10},
            "Trainer": {"state": state, "seconds": trainer},
        }
        return pipeline_cost.RunResult(
            name,
            scale,
            scale * 3000,
            "in_memory",
            cached,
            [1.0, 1.0, 1.0],
            wall,
            900.0,
            700.0,
            0,
            comps,
            wall / 10 + trainer,
            None if cached else trainer,
            None if cached else wall / trainer,
        )

    runs = [run("1x", 1, 70.0, 30.0), run("4x", 4, 97.0, 31.0), run("1x-cached", 1, 12.0, 0.1, cached=True)]
    runs[1].split_rows, runs[1].evaluator_seconds_per_1k_eval_rows = (
        {"train": 7000, "validation": 2000, "eval": 3000},
        1.5,
    )
    runs[1].load_average_after = [2.0, 1.5, 1.0]
    data = {
        "date": "today",
        "machine": {"nproc": 2},
        "runs": [r.__dict__ for r in runs],
        "analysis": pipeline_cost.analyse(runs),
        "notes": ["a note"],
    }
    pipeline_cost.write_results(tmp_path, data)
    markdown = (tmp_path / pipeline_cost.RESULTS_MD).read_text()
    assert (
        "| 4x | 12000 | 7000 / 2000 / 3000 | in_memory | 1.0/1.0/1.0 | 2.0/1.5/1.0 | 97 s | 900 MiB | 700 MiB | 1.50 |"
        in markdown
    )
    assert "7.0 (cached)" not in markdown and "0.1 (cached)" in markdown
    assert (tmp_path / pipeline_cost.RESULTS_PNG).stat().st_size > 0
    assert "s per 1000 rows" in markdown and "- a note" in markdown
    assert data["analysis"]["wall"]["seconds_per_1k_rows"] == pytest.approx(3.0)  # cached run left out of the fit
    assert json.loads((tmp_path / pipeline_cost.RESULTS_JSON).read_text())["runs"][1]["name"] == "4x"


@pytest.mark.parametrize(
    "path", sorted((REPO / "benchmarks" / "configs" / "encoder").glob("*.json")), ids=lambda p: p.name
)
def test_encoder_override_configs_load_with_a_checkpoint(path, tmp_path):
    """The encoder settings files are --config overrides: with `--encoder DIR` they make a valid config."""
    from tests.trainer.encoder.tiny_bert import write_tiny_bert

    checkpoint = write_tiny_bert(tmp_path / "tiny", config={"max_position_embeddings": 512})
    config = PipelineConfig.load(path, **{"encoder.checkpoint": str(checkpoint)})
    assert config.encoder is not None and config.train_and_eval_steps()[0] == config.encoder.train_steps
