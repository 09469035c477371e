"""The evaluation and lineage notebooks and the modules behind them.

Unit tests use hand-built TFMA protos and lineage graphs; the e2e tests read the session's real
pipeline run (first run: no baseline), then a second run on a copy of its metadata (a baseline
exists), then a third whose candidate is refused, and execute both notebooks headless against
them: no error, and their figures are PNG images in the outputs.
"""

import base64
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from google.protobuf import text_format

from lexflow.metadata import evaluation as ev
from lexflow.reports import evaluation_report as er
from lexflow.reports import lineage_report as lr
from lexflow.reports.notebook_settings import NotebookSettings

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"


# --- unit tests: no pipeline ---------------------------------------------------------------


def _metrics(text: str):
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2

    return text_format.Parse(text, metrics_for_slice_pb2.MetricsForSlice())


def _value(name, value, model="", class_id=None, macro=False, is_diff=False, output="predicted", slice_=""):
    sub_key = f"sub_key {{ class_id {{ value: {class_id} }} }}" if class_id is not None else ""
    aggregation = "aggregation_type { macro_average: true }" if macro else ""
    return (
        f'metric_keys_and_values {{ key {{ name: "{name}" output_name: "{output}" model_name: "{model}" {sub_key} '
        f"{aggregation} is_diff: {str(is_diff).lower()} }} value {{ double_value {{ value: {value} }} }} }}"
    )


def _two_model_metrics():
    """Candidate vocabulary [a, b]; the baseline's is [b, a], so its class 0 is `b`."""
    overall = "".join(
        [
            _value("sparse_categorical_accuracy", 0.8, "candidate", output="scores"),
            _value("sparse_categorical_accuracy", 0.7, "baseline", output="scores"),
            _value("sparse_categorical_accuracy", 0.1, "candidate", output="scores", is_diff=True),
            _value("example_count", 10, "candidate", output="scores"),
            _value("macro_f1", 0.75, "candidate", output="scores"),
            _value("macro_f1", 0.65, "baseline", output="scores"),
            _value("macro_f1", 0.1, "candidate", output="scores", is_diff=True),
            _value("f1_score", 0.9, "candidate", class_id=0),  # a
            _value("f1_score", 0.6, "candidate", class_id=1),  # b
            _value("f1_score", 0.5, "baseline", class_id=0),  # b
            _value("f1_score", 0.8, "baseline", class_id=1),  # a
            # TFMA's per-class diff compares ids: 0.9 - 0.5, meaningless across vocabularies.
            _value("f1_score", 0.4, "candidate", class_id=0, is_diff=True),
        ]
    )
    sliced = 'slice_key { single_slice_keys { column: "length_bucket" bytes_value: "short" } } ' + "".join(
        [
            _value("sparse_categorical_accuracy", 0.5, "candidate", output="scores"),
            _value("sparse_categorical_accuracy", 0.75, "baseline", output="scores"),
            _value("example_count", 4, "candidate", output="scores"),
            # An evaluation written before pipeline/metrics.py: TFMA's macro-averaged f1_score.
            _value("f1_score", float("nan"), "candidate", macro=True),
        ]
    )
    return [_metrics(overall), _metrics(sliced)]


def test_overall_metrics_show_candidate_baseline_and_tfma_diff():
    frame = ev.metrics_frame(_two_model_metrics())
    overall = er.overall_metrics(frame)
    assert list(overall.columns) == ["candidate", "baseline", "diff"]
    assert list(overall.index) == ["example_count", "accuracy", "macro_f1"]
    assert overall.loc["accuracy", "candidate"] == pytest.approx(0.8)
    assert overall.loc["macro_f1", "baseline"] == pytest.approx(0.65)
    assert overall.loc["macro_f1", "diff"] == pytest.approx(0.1)


def test_per_class_comparison_matches_labels_by_name_not_class_id():
    frame = ev.metrics_frame(_two_model_metrics())
    table = er.per_class_metrics(frame, ["a", "b"], baseline_label_names=["b", "a"])
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "f1"] == pytest.approx(0.9)
    assert table.loc["a", "baseline_f1"] == pytest.approx(0.8)
    assert table.loc["a", "f1_diff"] == pytest.approx(0.1)  # not TFMA's id-wise 0.4
    assert table.loc["b", "f1_diff"] == pytest.approx(0.1)


def test_first_run_tables_have_no_baseline_columns():
    frame = ev.metrics_frame(
        [
            _metrics(
                _value("sparse_categorical_accuracy", 0.9, "", output="scores")
                + _value("f1_score", 0.7, "", class_id=0)
            )
        ]
    )
    assert not er.has_baseline(frame)
    assert list(er.overall_metrics(frame).columns) == ["candidate"]
    assert list(er.per_class_metrics(frame, ["only"]).columns) == ["f1"]


def test_slices_are_named_and_overall_comes_first():
    slices = er.slice_metrics(ev.metrics_frame(_two_model_metrics()))
    assert list(slices.index) == [("overall", ""), ("length_bucket", "short")]
    assert slices.loc[("length_bucket", "short"), "accuracy_diff"] == pytest.approx(-0.25)
    assert pd.isna(slices.loc[("length_bucket", "short"), "macro_f1"])


def test_validation_failures_explain_a_change_threshold():
    from tensorflow_model_analysis.proto import validation_result_pb2

    result = text_format.Parse(
        """validation_ok: false
        metric_validations_per_slice { slice_key {} failures {
          metric_key { name: "f1_score" model_name: "candidate" output_name: "predicted"
                       aggregation_type { macro_average: true } is_diff: true }
          metric_threshold { change_threshold { direction: HIGHER_IS_BETTER absolute { value: -0.01 } } }
          metric_value { double_value { value: -0.05 } }
          message: "worse than the baseline" } }""",
        validation_result_pb2.ValidationResult(),
    )
    failures = er.validation_failures(result)
    assert failures.to_dict("records") == [
        {
            "slice": "overall",
            "metric": "macro_f1",
            "compared": "change vs baseline",
            "metric_value": -0.05,
            "threshold": "change vs baseline >= -0.01",
            "message": "worse than the baseline",
        }
    ]


def test_confusion_matrix_uses_label_names():
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2

    plots = text_format.Parse(
        """slice_key {} plot_keys_and_values { key { name: "multi_class_confusion_matrix_plot" output_name: "scores" }
           value { multi_class_confusion_matrix_at_thresholds { matrices {
             entries { actual_class_id: 0 predicted_class_id: 0 num_weighted_examples: 3 }
             entries { actual_class_id: 1 predicted_class_id: 0 num_weighted_examples: 2 } } } } }""",
        metrics_for_slice_pb2.PlotsForSlice(),
    )
    matrix = er.confusion_matrix([plots], ["a", "b"])
    assert matrix.loc["a", "a"] == 3 and matrix.loc["b", "a"] == 2 and matrix.loc["b", "b"] == 0


def test_settings_default_to_the_local_runner_paths_under_the_workspace(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # Jupyter's cwd is notebooks/; the notebook points LEXFLOW_HOME at the repo
    monkeypatch.setenv("LEXFLOW_HOME", str(REPO))
    settings = NotebookSettings.from_env({})
    assert settings.metadata_path == REPO / "artifacts" / "lexflow" / "metadata.sqlite"
    assert settings.pipeline_root == REPO / "artifacts" / "lexflow" / "pipeline"
    assert (settings.pipeline_name, settings.model_version, settings.span) == ("lexflow", None, None)
    custom = NotebookSettings.from_env(
        {
            "LEXFLOW_METADATA_PATH": "elsewhere/m.sqlite",
            "LEXFLOW_PIPELINE_ROOT": str(tmp_path),
            "LEXFLOW_MODEL_VERSION": "17",
            "LEXFLOW_SPAN": "2",
        }
    )
    assert custom.metadata_path == REPO / "elsewhere" / "m.sqlite"
    assert (custom.pipeline_root, custom.model_version, custom.span) == (tmp_path, "17", 2)
    # The model as the commands name it: after its data root, unless LEXFLOW_MODEL_NAME says otherwise.
    own = NotebookSettings.from_env({"LEXFLOW_DATA_ROOT": "data/privacy policies"})
    assert own.model_name == own.pipeline_name == "privacy_policies"
    assert own.metadata_path == REPO / "artifacts" / "privacy_policies" / "metadata.sqlite"
    assert "model:                   privacy_policies" in own.describe()


def _toy_graph() -> lr.LineageGraph:
    graph = lr.LineageGraph(root="a5")
    for node in [
        lr.Node("a1", "artifact", 1, "Examples", "span 0"),
        lr.Node("e2", "execution", 2, "Trainer"),
        lr.Node("a3", "artifact", 3, "Model", producer_id=2),
        lr.Node("a9", "artifact", 9, "Model", producer_id=1),  # an earlier Trainer's: the baseline
        lr.Node("e4", "execution", 4, "Pusher"),
        lr.Node("a5", "artifact", 5, "PushedModel", "version 7", producer_id=4),
    ]:
        graph.nodes[node.key] = node
    for source, target, role in [
        ("a3", "e4", "model"),
        ("a1", "e2", "examples"),
        ("e2", "a3", "output"),
        ("e4", "a5", "output"),
        ("a9", "e4", "baseline_model"),
    ]:
        graph.add_edge(source, target, role)
    return graph


def test_stages_follow_the_data_to_the_pushed_version():
    table = lr.stages(_toy_graph())
    # Chronological: the baseline was trained before this run's model.
    assert table["stage"].tolist() == ["data span", "baseline model (compared with)", "model", "pushed version"]


def test_mermaid_draws_every_node_and_dashes_the_baseline():
    text = lr.to_mermaid(_toy_graph())
    assert text.startswith("flowchart LR")
    assert 'a1("Examples #1<br/>span 0")' in text and 'e2["Trainer #2"]' in text
    assert "a9 -. baseline_model .-> e4" in text and "a1 --> e2" in text


@pytest.mark.parametrize("name", ["evaluation.ipynb", "lineage.ipynb"])
def test_notebooks_are_committed_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


# --- e2e: the session's pipeline run, then a second run with a baseline --------------------


PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Executed:
    text: str  # every stream, markdown and plain-text output
    images: list[bytes]  # every image/png output, decoded, in order


def execute_notebook(name: str, metadata_path: Path, pipeline_root: Path, monkeypatch, **env) -> Executed:
    """Run a notebook headless from notebooks/ (as Jupyter or nbconvert would) and collect its outputs."""
    from nbclient import NotebookClient

    monkeypatch.setenv("LEXFLOW_METADATA_PATH", str(metadata_path))
    monkeypatch.setenv("LEXFLOW_PIPELINE_ROOT", str(pipeline_root))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    texts, images = [], []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", output
            if output.output_type == "stream":
                texts.append(output.text)
            elif "data" in output:
                texts.append(output["data"].get("text/markdown") or output["data"].get("text/plain", ""))
                if "image/png" in output["data"]:
                    images.append(base64.b64decode(output["data"]["image/png"]))
    assert all(image.startswith(PNG) and len(image) > 10_000 for image in images)  # real figures, not blanks
    return Executed("\n".join(texts), images)


def _labels():
    from pipeline.schema_info import label_domain, load_schema
    from tests.conftest import SCHEMA

    return label_domain(load_schema(SCHEMA))


def _store(config):
    from lexflow.metadata import store as md

    return md.open_store(config.metadata_path)


@pytest.mark.e2e
def test_first_run_report_has_every_label_and_no_baseline(pipeline_run):
    summary = pipeline_run.summary
    report = er.build_report(_store(pipeline_run.config))
    assert report.run.baseline is None and report.run.blessed is True
    assert report.baseline_note().startswith("First run")
    assert list(report.overall.columns) == ["candidate"]
    # run_summary reads the same TFMA output through its own code path.
    assert report.overall.loc["macro_f1", "candidate"] == pytest.approx(summary.metrics.macro_f1)
    assert report.overall.loc["accuracy", "candidate"] == pytest.approx(summary.metrics.accuracy)
    assert sorted(report.per_class.index) == sorted(_labels())
    for label, f1 in summary.metrics.per_class_f1.items():
        assert report.per_class.loc[label, "f1"] == pytest.approx(f1)
    assert {"length_bucket", "source"} <= set(report.slices.index.get_level_values("feature"))
    assert sorted(report.confusion.index) == sorted(_labels())
    assert report.confusion.to_numpy().sum() == report.overall.loc["example_count", "candidate"]
    assert report.validation_ok and report.failures.empty
    assert set(report.thresholds["slices"]) == {"overall"}
    assert not report.thresholds["threshold"].str.contains("change").any()  # no baseline, no change threshold


@pytest.mark.e2e
def test_lineage_graph_of_the_pushed_version(pipeline_run):
    from lexflow.metadata import lineage as lin

    store = _store(pipeline_run.config)
    info, graph = lr.version_graph(store)
    assert info.version == pipeline_run.summary.pushed_version
    table = lr.stages(graph)
    expected = [
        "data span",
        "statistics",
        "schema",
        "anomalies (data gate input)",
        "transform graph",
        "model",
        "evaluation",
        "blessing",
        "pushed version",
    ]
    assert set(expected) <= set(table["stage"])
    chain = ["data span", "transform graph", "model", "evaluation", "blessing", "pushed version"]
    first_row = [table["stage"].tolist().index(stage) for stage in chain]
    assert first_row == sorted(first_row), table
    assert table.set_index("stage").loc["data span", "detail"] == "span 0"
    assert table.set_index("stage").loc["anomalies (data gate input)", "detail"] == "no anomalies"
    assert table.set_index("stage").loc["model", "uri"] == info.model_uri
    assert table.set_index("stage").loc["transform graph", "uri"] == info.transform_graph_uri
    spans = lr.spans(store)
    assert spans["span"].tolist() == [0]
    assert spans.loc[0, "versions fed"] == ", ".join(lin.versions_fed_by_span(store, 0)) == info.version


@pytest.mark.e2e
def test_evaluation_notebook_on_the_first_run(pipeline_run, monkeypatch):
    config = pipeline_run.config
    executed = execute_notebook("evaluation.ipynb", config.metadata_path, config.pipeline_root, monkeypatch)
    text = executed.text
    # Slices, per class, confusion matrix; no candidate-vs-baseline figure without a baseline.
    assert len(executed.images) == 3
    assert f"showing the served model: version {pipeline_run.summary.pushed_version}" in text
    assert f"{pipeline_run.summary.metrics.macro_f1:.4f}" in text
    assert "macro_f1" in text
    for label in _labels():
        assert label in text
    assert "the Evaluator had no baseline" in text and "no version in production yet" in text
    assert "BLESSED" in text and "not under LEXFLOW_PIPELINE_ROOT" not in text


@pytest.mark.e2e
def test_lineage_notebook_on_the_first_run(pipeline_run, monkeypatch):
    config = pipeline_run.config
    version = pipeline_run.summary.pushed_version
    executed = execute_notebook("lineage.ipynb", config.metadata_path, config.pipeline_root, monkeypatch)
    text = executed.text
    assert len(executed.images) == 1  # the lineage graph, drawn
    assert f"pushed version {version}" in text
    assert f"span 0 fed versions: {version}" in text
    assert "```mermaid" in text and "flowchart LR" in text


@pytest.fixture(scope="module")
def second_run(pipeline_run, tmp_path_factory):
    """The pipeline again on the same data with more training steps, on a copy of the first run's
    metadata and of its serving dir (the session's stay as the other tests expect them): the first
    model is in production, so the Evaluator has it as its baseline. Cached artifacts still live
    under the first run's root."""
    from lexflow.runs.local_run import run_local
    from tests.conftest import small_pipeline_config

    first = pipeline_run.config
    root = tmp_path_factory.mktemp("second-run")
    shutil.copy(first.metadata_path, root / "metadata.sqlite")
    config = small_pipeline_config(root).model_copy(update={"data_root": first.data_root})
    shutil.copytree(first.serving_dir, config.serving_dir)
    config = config.model_copy(update={"train": config.train.model_copy(update={"train_steps": 170})})
    return config, run_local(config)


@pytest.mark.e2e
def test_second_run_report_compares_with_the_first_model(pipeline_run, second_run):
    config, summary = second_run
    store = _store(config)
    report = er.build_report(store, pipeline_run="latest")
    first_model = er.find_evaluator_run(_store(pipeline_run.config)).model
    # The baseline is ProductionBaseline's copy of the version in production: the first run's push.
    assert report.run.baseline is not None and report.run.baseline.uri != first_model.uri
    (baseline,) = store.get_artifacts_by_id([report.run.baseline.artifact_id])
    assert baseline.custom_properties["production_version"].int_value == int(pipeline_run.summary.pushed_version)
    assert report.run.model.uri != first_model.uri
    assert report.baseline_note().startswith("Compared with the model in production (baseline: version")
    overall = report.overall
    assert list(overall.columns) == ["candidate", "baseline", "diff"]
    for metric in ("accuracy", "macro_f1"):
        # TFMA's diff is what the change threshold checked; it must be candidate - baseline.
        assert overall.loc[metric, "diff"] == pytest.approx(
            overall.loc[metric, "candidate"] - overall.loc[metric, "baseline"], abs=1e-6
        )
    assert overall.loc["macro_f1", "baseline"] == pytest.approx(pipeline_run.summary.metrics.macro_f1)
    per_class = report.per_class
    assert sorted(per_class.index) == sorted(_labels())
    for label, f1 in pipeline_run.summary.metrics.per_class_f1.items():
        assert per_class.loc[label, "baseline_f1"] == pytest.approx(f1)
    assert report.thresholds["threshold"].str.contains("change vs baseline >= -0.01").all()
    # The blessing in MLMD and TFMA's validation result tell the same story.
    assert report.run.blessed == report.validation_ok == report.failures.empty == summary.blessed


@pytest.mark.e2e
def test_second_run_lineage_shows_the_baseline_and_every_version(pipeline_run, second_run):
    config, summary = second_run
    store = _store(config)
    first_version = pipeline_run.summary.pushed_version
    versions = lr.pushed_versions(store)
    assert first_version in versions["version"].tolist()
    info, graph = lr.version_graph(store, first_version)
    assert info.version == first_version
    assert not [e for e in graph.edges if e.role == "baseline_model"]  # the first model had none
    if summary.pushed_version and summary.pushed_version != first_version:
        info, graph = lr.version_graph(store)
        assert info.version == summary.pushed_version
        baseline_edges = [e for e in graph.edges if e.role == "baseline_model"]
        # The baseline is ProductionBaseline's copy of the version in production: the first push.
        assert len(baseline_edges) == 1
        (baseline,) = store.get_artifacts_by_id([graph.nodes[baseline_edges[0].source].id])
        assert baseline.custom_properties["production_version"].int_value == int(first_version)
        assert versions["version"].tolist() == [summary.pushed_version, first_version]
        assert lr.spans(store).loc[0, "versions fed"] == ", ".join(sorted([first_version, summary.pushed_version]))


@pytest.mark.e2e
def test_evaluation_for_an_older_version_is_the_one_that_blessed_it(pipeline_run, second_run):
    config, _ = second_run
    store = _store(config)
    first_version = pipeline_run.summary.pushed_version
    older = er.find_evaluator_run(store, version=first_version)
    assert older.baseline is None  # its own (first) evaluation, not the later one that used it as baseline
    assert older.evaluation_uri == er.find_evaluator_run(_store(pipeline_run.config)).evaluation_uri


@pytest.mark.e2e
def test_version_lineage_of_an_older_version_reports_its_own_evaluation(pipeline_run, second_run):
    from lexflow.metadata import lineage as lin

    config, _ = second_run
    store = _store(config)
    first_version = pipeline_run.summary.pushed_version
    info = lin.version_lineage(store, first_version)
    assert info.baseline_model_uri is None
    assert info.evaluation_uri == er.find_evaluator_run(store, version=first_version).evaluation_uri


@pytest.mark.e2e
def test_evaluation_notebook_with_a_baseline(second_run, monkeypatch):
    config, summary = second_run
    executed = execute_notebook(
        "evaluation.ipynb", config.metadata_path, config.pipeline_root, monkeypatch, LEXFLOW_RUN="latest"
    )
    text = executed.text
    assert len(executed.images) == 4  # slices, per class, confusion matrix, candidate vs. baseline
    report = er.build_report(_store(config), pipeline_run="latest")
    assert "showing the latest Evaluator run" in text
    assert "Compared with the model in production" in text and "f1_diff" in text and "baseline_macro_f1" in text
    assert f"{report.overall.loc['macro_f1', 'diff']:.4f}" in text
    assert ("NOT BLESSED" in text) == (not summary.blessed)
    assert "not under LEXFLOW_PIPELINE_ROOT" not in text  # this run's evaluation, not a cached one


@pytest.mark.e2e
def test_lineage_notebook_for_a_chosen_version(pipeline_run, second_run, monkeypatch):
    config, _ = second_run
    first_version = pipeline_run.summary.pushed_version
    executed = execute_notebook(
        "lineage.ipynb",
        config.metadata_path,
        config.pipeline_root,
        monkeypatch,
        LEXFLOW_MODEL_VERSION=first_version,
        LEXFLOW_SPAN="0",
    )
    text = executed.text
    assert len(executed.images) == 1
    assert f"pushed version {first_version}" in text
    assert "span 0 fed versions: " in text and first_version in text.split("span 0 fed versions: ")[1]


@pytest.fixture(scope="module")
def refused_run(second_run, tmp_path_factory):
    """A third run whose thresholds no model passes: the Evaluator refuses the candidate and
    nothing is pushed, so the latest Evaluator run is not the model that serves."""
    from lexflow.runs.local_run import run_local

    config, _ = second_run
    root = tmp_path_factory.mktemp("refused-run")
    shutil.copy(config.metadata_path, root / "metadata.sqlite")
    thresholds = config.thresholds.model_copy(update={"min_accuracy": 0.999, "min_macro_f1": 0.999})
    refused = config.model_copy(
        update={"metadata_path": root / "metadata.sqlite", "pipeline_root": root / "pipeline", "thresholds": thresholds}
    )
    return refused, run_local(refused)


@pytest.mark.e2e
def test_the_evaluation_defaults_to_the_served_model_not_a_refused_candidate(refused_run, monkeypatch):
    from core.errors import UserError
    from lexflow.metadata import lineage as lin

    config, summary = refused_run
    assert summary.blessed is False and summary.pushed_version is None
    store = _store(config)
    served = lin.version_lineage(store).version
    default = er.build_report(store)
    assert default.run.blessed is True and default.validation_ok
    assert default.run.selection == f"the served model: version {served}, the newest pushed"
    refused = er.build_report(store, pipeline_run="latest")
    assert refused.run.blessed is False and not refused.failures.empty
    assert refused.run.execution_id != default.run.execution_id
    # The run id the run summary prints selects the same evaluation; that run pushed nothing.
    assert er.build_report(store, pipeline_run=summary.run_id).run.execution_id == refused.run.execution_id
    with pytest.raises(UserError, match="pushed no model"):
        lin.version_pushed_by_run(store, summary.run_id)

    executed = execute_notebook("evaluation.ipynb", config.metadata_path, config.pipeline_root, monkeypatch)
    assert f"showing the served model: version {served}" in executed.text
    assert "NOT BLESSED" not in executed.text and len(executed.images) >= 3
    executed = execute_notebook(
        "evaluation.ipynb", config.metadata_path, config.pipeline_root, monkeypatch, LEXFLOW_RUN=summary.run_id
    )
    assert f"showing the Evaluator run of pipeline run {summary.run_id}" in executed.text
    assert "NOT BLESSED" in executed.text and len(executed.images) == 4
