"""The notebooks' pictures, as matplotlib figures (static PNGs in any viewer: a headless
`jupyter nbconvert --execute`, GitHub's notebook view, an exported HTML).

Built with matplotlib's object API (no pyplot state): each function takes the tables of
`evaluation_report` / `lineage_report` and returns a Figure; the notebooks `display()` it.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import pandas as pd

from lexflow.metadata.evaluation import OVERALL
from lexflow.reports.lineage_report import NOT_EXPANDED_ROLES, LineageGraph, topological_order

CANDIDATE_COLOR, BASELINE_COLOR = "#1f77b4", "#aaaaaa"
BETTER, WORSE = "#2ca02c", "#d62728"
PER_CLASS_COLORS = {"precision": "#4c72b0", "recall": "#dd8452", "f1": "#55a868"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _slice_name(key: tuple[str, str]) -> str:
    feature, value = key
    return OVERALL if feature == OVERALL else f"{feature}={value}"


def _hbars(
    ax: Any, names: list[str], series: dict[str, list[float]], colors: dict[str, str], values: bool = False
) -> None:
    """Grouped horizontal bars, first name on top; NaN values are marked n/a, others (`values`) written."""
    import numpy as np

    y = np.arange(len(names))
    height = 0.8 / max(1, len(series))
    for i, (label, numbers) in enumerate(series.items()):
        offsets = y - 0.4 + height * (i + 0.5)
        clean = [0.0 if v is None or math.isnan(v) else v for v in numbers]
        ax.barh(offsets, clean, height, label=label, color=colors[label])
        for offset, value in zip(offsets, numbers, strict=True):
            if value is None or math.isnan(value):
                ax.text(0.01, offset, "n/a", va="center", fontsize=7, color="#666")
            elif values:
                ax.text(value + 0.01, offset, f"{value:.3f}", va="center", fontsize=7)
    ax.set_yticks(y, names, fontsize=8)
    if not ax.yaxis_inverted():  # axes sharing y share the inversion too
        ax.invert_yaxis()
    ax.set_xlim(0, 1.08 if values else 1.0)


def slice_metrics_figure(slices: pd.DataFrame) -> Any:
    """Accuracy and macro-F1 per slice (overall first), the baseline's next to the candidate's."""
    names = [_slice_name(k) for k in slices.index]
    figure = _figure(11, 0.45 * len(names) + 1.4)
    axes = figure.subplots(1, 2, sharey=True)
    for ax, metric in zip(axes, ("accuracy", "macro_f1"), strict=True):
        series = {"candidate": slices[metric].tolist()} if metric in slices else {}
        if f"baseline_{metric}" in slices:
            series["baseline"] = slices[f"baseline_{metric}"].tolist()
        _hbars(ax, names, series, {"candidate": CANDIDATE_COLOR, "baseline": BASELINE_COLOR}, values=True)
        ax.set_title(metric.replace("_", "-"), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", fontsize=8)
    figure.suptitle("metrics per slice", fontsize=11)
    return figure


def confusion_figure(confusion: pd.DataFrame) -> Any:
    """Counts per (actual, predicted); colour is the share of the actual label's rows (recall on
    the diagonal), so rare labels' mistakes show as clearly as common ones'."""
    import numpy as np

    counts = confusion.to_numpy()
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    size = 0.5 * len(confusion) + 2.5
    figure = _figure(size + 1.5, size)
    ax = figure.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(counts):
        if count:
            color = "white" if shares[row, column] > 0.6 else "black"
            ax.text(column, row, str(count), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(len(confusion.columns)), confusion.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(confusion.index)), confusion.index, fontsize=8)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("actual label")
    figure.colorbar(image, ax=ax, shrink=0.8, label="share of the actual label's rows")
    ax.set_title("confusion matrix (counts)", fontsize=11)
    return figure


def per_class_figure(per_class: pd.DataFrame) -> Any:
    """Precision, recall and F1 per label, in the table's order."""
    names = list(per_class.index)
    figure = _figure(9, 0.42 * len(names) + 1.4)
    ax = figure.subplots()
    metrics = [m for m in PER_CLASS_COLORS if m in per_class]
    _hbars(ax, names, {m: per_class[m].tolist() for m in metrics}, PER_CLASS_COLORS)
    figure.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("precision, recall and F1 per label", fontsize=11)
    return figure


def comparison_figure(overall: pd.DataFrame, per_class: pd.DataFrame) -> Optional[Any]:
    """Candidate vs. baseline: overall accuracy and macro-F1 side by side, and each label's F1
    change (green: the candidate is better). None without a baseline."""
    if "baseline" not in overall or "f1_diff" not in per_class:
        return None
    import numpy as np

    diffs = per_class["f1_diff"].dropna().sort_values()
    figure = _figure(11, max(3.0, 0.35 * len(diffs) + 1.4))
    left, right = figure.subplots(1, 2, width_ratios=[1, 2])
    metrics = [m for m in ("accuracy", "macro_f1") if m in overall.index]
    x = np.arange(len(metrics))
    left.bar(x - 0.2, overall.loc[metrics, "candidate"], 0.4, label="candidate", color=CANDIDATE_COLOR)
    left.bar(x + 0.2, overall.loc[metrics, "baseline"], 0.4, label="baseline", color=BASELINE_COLOR)
    for i, metric in enumerate(metrics):
        diff = overall.loc[metric, "diff"] if "diff" in overall else math.nan
        if not math.isnan(diff):
            left.text(i, 1.02, f"{diff:+.3f}", ha="center", fontsize=8, color=BETTER if diff >= 0 else WORSE)
    left.set_xticks(x, [m.replace("_", "-") for m in metrics])
    left.set_ylim(0, 1.1)
    figure.legend(*left.get_legend_handles_labels(), loc="outside upper left", fontsize=8)
    left.set_title("overall (diff above the bars)", fontsize=10)
    y = np.arange(len(diffs))
    right.barh(y, diffs.to_numpy(), color=[BETTER if d >= 0 else WORSE for d in diffs])
    right.set_yticks(y, list(diffs.index), fontsize=8)
    right.invert_yaxis()  # regressions first
    right.axvline(0, color="black", linewidth=0.8)
    right.set_xlabel("F1 change (candidate - baseline)")
    right.set_title("per label", fontsize=10)
    figure.suptitle("candidate vs. baseline", fontsize=11)
    return figure


# --- the lineage graph -------------------------------------------------------------------------------


def _layers(graph: LineageGraph) -> dict[str, int]:
    """Longest-path layering: every edge points down at least one layer."""
    layer: dict[str, int] = {}
    for key in topological_order(graph):
        sources = [layer[e.source] for e in graph.edges if e.target == key and e.source in layer]
        layer[key] = max(sources, default=-1) + 1
    return layer


def _positions(graph: LineageGraph, layer: dict[str, int]) -> dict[str, tuple[float, float]]:
    """x within each layer ordered by the mean x of the node's sources (fewer crossings), centred."""
    rows: dict[int, list[str]] = {}
    for key in topological_order(graph):
        rows.setdefault(layer[key], []).append(key)
    x: dict[str, float] = {}
    for depth in sorted(rows):
        centre = {}
        for i, key in enumerate(rows[depth]):
            sources = [x[e.source] for e in graph.edges if e.target == key and e.source in x]
            centre[key] = sum(sources) / len(sources) if sources else float(i)
        keys = sorted(rows[depth], key=centre.__getitem__)
        for i, key in enumerate(keys):
            x[key] = i - (len(keys) - 1) / 2
    return {key: (x[key], -float(layer[key])) for key in x}


def lineage_figure(graph: LineageGraph) -> Any:
    """The provenance graph drawn top (data) to bottom (pushed version): artifacts in rounded
    blue boxes, executions in grey squares, the baseline the Evaluator compared with dashed."""
    from matplotlib.patches import FancyArrowPatch

    layer = _layers(graph)
    where = _positions(graph, layer)
    width = max(abs(x) for x, _ in where.values()) * 2 + 1
    figure = _figure(max(8.0, 2.4 * width), 0.62 * (max(layer.values()) + 1) + 0.6)
    ax = figure.subplots()
    for edge in graph.edges:
        dashed = edge.role in NOT_EXPANDED_ROLES
        (x0, y0), (x1, y1) = where[edge.source], where[edge.target]
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0 - 0.16),
                (x1, y1 + 0.16),
                arrowstyle="-|>",
                mutation_scale=9,
                linewidth=0.8,
                linestyle="--" if dashed else "-",
                color="#c44e52" if dashed else "#555555",
                connectionstyle="arc3,rad=0.08" if abs(layer[edge.target] - layer[edge.source]) > 1 else "arc3",
            )
        )
    for key, (x, y) in where.items():
        node = graph.nodes[key]
        text = f"{node.type} #{node.id}" + (f"\n{node.detail}" if node.detail else "")
        artifact = node.kind == "artifact"
        box = {
            "boxstyle": "round,pad=0.35" if artifact else "square,pad=0.35",
            "facecolor": "#dbe9f6" if artifact else "#eeeeee",
            "edgecolor": "black" if key == graph.root else "#888888",
            "linewidth": 2.0 if key == graph.root else 0.8,
        }
        ax.text(x, y, text, ha="center", va="center", fontsize=7, bbox=box, zorder=3)
    ax.set_xlim(-width / 2 - 0.2, width / 2 + 0.2)
    ax.set_ylim(-max(layer.values()) - 0.6, 0.6)
    ax.set_axis_off()
    ax.set_title("lineage: rounded = artifact, square = execution, dashed = baseline compared with", fontsize=9)
    return figure
