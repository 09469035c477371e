"""The one-screen summary of a local run, read back from MLMD and the run's artifacts."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from lexflow import metadata as md
from pipeline.config import PipelineConfig


@dataclass
class EvalMetrics:
    accuracy: Optional[float] = None
    macro_f1: Optional[float] = None
    per_class_f1: dict[str, float] = field(default_factory=dict)
    slices: dict[str, dict[str, float]] = field(default_factory=dict)  # slice -> {accuracy, macro_f1}
    baseline_accuracy: Optional[float] = None
    baseline_macro_f1: Optional[float] = None


@dataclass
class DriftInfo:
    span: int
    baseline_span: Optional[int]  # None on the first span
    drifted: bool
    summary: str


@dataclass
class RunSummary:
    run_id: str
    components: list[md.ExecutionInfo]
    metrics: Optional[EvalMetrics]
    blessed: Optional[bool]
    pushed_version: Optional[str]
    pushed_path: Optional[str]
    already_served: bool
    metadata_path: Path
    pipeline_root: Path
    schema_path: Optional[Path] = None
    schema_drafted: bool = False
    spans: list[int] = field(default_factory=list)  # the window Transform/Trainer/Evaluator read
    new_span: Optional[int] = None  # what ExampleGen ingested in this run
    drift: Optional["DriftInfo"] = None

    @property
    def succeeded(self) -> bool:
        return bool(self.components) and all(c.state in ("COMPLETE", "CACHED") for c in self.components)


def _slice_name(slice_key) -> str:
    parts = []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        parts.append(f"{single.column}={value}")
    return ", ".join(parts) or "overall"


def load_eval_metrics(evaluation_uri: str, label_names: list[str]) -> EvalMetrics:
    import tensorflow_model_analysis as tfma

    from pipeline.eval_config import ACCURACY, MACRO_F1_KEY_MATCH, PER_CLASS_F1

    result = EvalMetrics()
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        name = _slice_name(metrics_for_slice.slice_key)
        values: dict[str, float] = {}
        for kv in metrics_for_slice.metric_keys_and_values:
            key, value = kv.key, kv.value
            if not value.HasField("double_value"):
                continue
            number = value.double_value.value
            baseline = key.is_diff is False and key.model_name == "baseline"
            if key.is_diff:
                continue
            if key.name == ACCURACY and not key.HasField("sub_key"):
                values["baseline_accuracy" if baseline else "accuracy"] = number
            elif MACRO_F1_KEY_MATCH(key):
                values["baseline_macro_f1" if baseline else "macro_f1"] = number
            elif key.name == PER_CLASS_F1 and key.sub_key.HasField("class_id") and not baseline and name == "overall":
                class_id = key.sub_key.class_id.value
                label = label_names[class_id] if class_id < len(label_names) else str(class_id)
                result.per_class_f1[label] = number
        if name == "overall":
            result.accuracy = values.get("accuracy")
            result.macro_f1 = values.get("macro_f1")
            result.baseline_accuracy = values.get("baseline_accuracy")
            result.baseline_macro_f1 = values.get("baseline_macro_f1")
        else:
            result.slices[name] = {k: v for k, v in values.items() if not k.startswith("baseline")}
    return result


def summarize(config: PipelineConfig, schema_path: Optional[Path] = None, schema_drafted: bool = False) -> RunSummary:
    store = md.open_store(config.metadata_path)
    run = md.latest_run(store, config.pipeline_name)
    components = md.run_executions(store, run, config.pipeline_name) if run else []
    by_component = {c.component: c for c in components}

    metrics = blessed = pushed_version = pushed_path = None
    already_served = False
    evaluator = by_component.get("Evaluator")
    if evaluator is not None:
        blessing = md.output_artifacts(store, evaluator.execution.id, "blessing")
        if blessing:
            blessed = bool(md.custom_property(blessing[0], "blessed"))
        evaluation = md.output_artifacts(store, evaluator.execution.id, "evaluation")
        if evaluation:
            metrics = load_eval_metrics(evaluation[0].uri, _label_names(store, by_component))
    pusher = by_component.get("Pusher")
    if pusher is not None:
        pushed = md.output_artifacts(store, pusher.execution.id, "pushed_model")
        if pushed and md.custom_property(pushed[0], "pushed"):
            pushed_version = str(md.custom_property(pushed[0], "pushed_version"))
            pushed_path = md.custom_property(pushed[0], "pushed_destination")
            already_served = bool(md.custom_property(pushed[0], "already_served"))
    spans: list[int] = []
    transform = by_component.get("Transform")
    if transform is not None:
        spans = sorted({int(md.custom_property(a, "span") or 0)
                        for a in md.input_artifacts(store, transform.execution.id, "examples")})
    new_span = None
    example_gen = by_component.get("CsvExampleGen")
    if example_gen is not None:
        ingested = md.output_artifacts(store, example_gen.execution.id, "examples")
        new_span = int(md.custom_property(ingested[0], "span") or 0) if ingested else None
    drift = None
    drift_check = by_component.get("DriftCheck")
    if drift_check is not None:
        reports = md.output_artifacts(store, drift_check.execution.id, "drift_report")
        if reports:
            baseline_span = md.custom_property(reports[0], "baseline_span")
            drift = DriftInfo(
                span=int(md.custom_property(reports[0], "span") or 0),
                baseline_span=None if baseline_span in (None, -1) else int(baseline_span),
                drifted=bool(md.custom_property(reports[0], "drifted")),
                summary=str(md.custom_property(reports[0], "summary")))
    return RunSummary(
        spans=spans, new_span=new_span, drift=drift,
        run_id=run.name if run else "-",
        components=components,
        metrics=metrics,
        blessed=blessed,
        pushed_version=pushed_version,
        pushed_path=pushed_path,
        already_served=already_served,
        metadata_path=config.metadata_path,
        pipeline_root=config.pipeline_root,
        schema_path=schema_path,
        schema_drafted=schema_drafted,
    )


def _label_names(store, by_component) -> list[str]:
    """Class names in class-id order: the Transform graph's label vocabulary."""
    transform = by_component.get("Transform")
    if transform is None:
        return []
    graphs = md.output_artifacts(store, transform.execution.id, "transform_graph")
    if not graphs:
        return []
    path = Path(graphs[0].uri) / "transform_fn" / "assets" / "label"
    if not path.is_file():
        return []
    return path.read_text(encoding="utf-8").splitlines()


def render(summary: RunSummary, console) -> None:
    from rich.table import Table

    table = Table(title=f"lexflow run {summary.run_id}", title_justify="left")
    table.add_column("component")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    styles = {"COMPLETE": "green", "CACHED": "cyan", "FAILED": "red"}
    for info in summary.components:
        table.add_row(info.component, f"[{styles.get(info.state, 'yellow')}]{info.state.lower()}[/]", f"{info.seconds:.1f}")
    console.print(table)

    if summary.spans:
        console.print(f"data: spans {', '.join(map(str, summary.spans))}"
                      + (f" (new: span {summary.new_span})" if summary.new_span is not None else ""))
    if summary.drift is not None:
        d = summary.drift
        against = f"span {d.span} vs. span {d.baseline_span}" if d.baseline_span is not None else f"span {d.span}"
        console.print(f"drift ({against}): " + (f"[yellow]{d.summary}[/]" if d.drifted else d.summary), soft_wrap=True)
    m = summary.metrics
    if m is not None:
        def fmt(x):
            return "-" if x is None else f"{x:.3f}"
        line = f"eval: accuracy {fmt(m.accuracy)}  macro-F1 {fmt(m.macro_f1)}"
        if m.baseline_accuracy is not None:
            line += f"   (baseline: accuracy {fmt(m.baseline_accuracy)}  macro-F1 {fmt(m.baseline_macro_f1)})"
        console.print(line)
        if m.per_class_f1:
            worst = sorted(m.per_class_f1.items(), key=lambda kv: kv[1])
            console.print("per-class F1 (lowest first): " + ", ".join(f"{k} {v:.2f}" for k, v in worst))
        for name, values in sorted(m.slices.items()):
            console.print(f"  slice {name}: accuracy {fmt(values.get('accuracy'))}  macro-F1 {fmt(values.get('macro_f1'))}")
    if summary.blessed is not None:
        console.print("blessed: " + ("[green]yes[/]" if summary.blessed else "[red]no[/] (model not pushed)"))
    if summary.pushed_version and summary.already_served:
        console.print(f"model unchanged: already served as version {summary.pushed_version} at {summary.pushed_path}")
    elif summary.pushed_version:
        console.print(f"pushed model: version {summary.pushed_version} at {summary.pushed_path}")
    if summary.schema_drafted:
        console.print(f"[yellow]schema: no curated schema for this dataset; used a TFDV draft at {summary.schema_path}[/]")
    elif summary.schema_path:
        console.print(f"schema: {summary.schema_path}")
    console.print(f"metadata (MLMD, SQLite): {summary.metadata_path}")
    console.print(f"pipeline root: {summary.pipeline_root}")
