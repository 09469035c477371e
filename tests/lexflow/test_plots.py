"""The notebooks' figures (lexflow/reports/plots.py) on hand-built tables and a toy lineage graph."""

import math

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from lexflow.reports import lineage_report as lr
from lexflow.reports import plots


def _bars(ax):
    return [p for p in ax.patches if p.get_width() or p.get_height()]


def _ticks(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


@pytest.fixture
def slices():
    index = pd.MultiIndex.from_tuples(
        [("overall", ""), ("length_bucket", "long"), ("source", "feedback")], names=["feature", "value"]
    )
    return pd.DataFrame(
        {
            "accuracy": [0.8, 0.7, 0.9],
            "macro_f1": [0.75, math.nan, 0.85],
            "baseline_accuracy": [0.78, 0.72, 0.6],
            "baseline_macro_f1": [0.7, 0.6, 0.5],
        },
        index=index,
    )


def test_slice_bars_put_overall_on_top_with_the_baseline_and_mark_missing_values(slices):
    figure = plots.slice_metrics_figure(slices)
    accuracy, macro_f1 = figure.axes
    assert [ax.get_title() for ax in figure.axes] == ["accuracy", "macro-f1"]
    # Reading down: overall first (the y axis is inverted once, although the axes share it).
    assert _ticks(accuracy) == ["overall", "length_bucket=long", "source=feedback"] and accuracy.yaxis_inverted()
    widths = [round(p.get_width(), 3) for p in accuracy.patches]
    assert widths == [0.8, 0.7, 0.9, 0.78, 0.72, 0.6]  # candidate bars, then the baseline's
    assert "n/a" in [t.get_text() for t in macro_f1.texts]  # the NaN macro-F1 of the long slice
    assert "0.900" in [t.get_text() for t in accuracy.texts]


def test_per_class_bars_and_the_comparison_with_the_baseline():
    per_class = pd.DataFrame(
        {"precision": [0.9, 0.5], "recall": [0.8, 0.4], "f1": [0.85, 0.45], "f1_diff": [0.05, -0.2]},
        index=["governing_law", "termination"],
    )
    (ax,) = plots.per_class_figure(per_class).axes
    assert len(ax.patches) == 6 and _ticks(ax) == ["governing_law", "termination"]
    overall = pd.DataFrame({"candidate": [0.8, 0.7], "baseline": [0.75, 0.72], "diff": [0.05, -0.02]})
    overall.index = ["accuracy", "macro_f1"]
    assert plots.comparison_figure(overall[["candidate"]], per_class) is None  # first run: nothing to compare
    left, right = plots.comparison_figure(overall, per_class).axes
    assert [t.get_text() for t in left.texts] == ["+0.050", "-0.020"]
    assert _ticks(right) == ["termination", "governing_law"]  # regressions first
    colors = [to_hex(p.get_facecolor()) for p in right.patches]
    assert colors == [plots.WORSE, plots.BETTER]


def test_confusion_heatmap_colours_by_the_actual_labels_share():
    confusion = pd.DataFrame([[8, 2], [0, 1]], index=["a", "b"], columns=["a", "b"])
    ax = plots.confusion_figure(confusion).axes[0]
    assert [t.get_text() for t in ax.texts] == ["8", "2", "1"]  # zeros are left blank
    shares = ax.images[0].get_array()
    assert shares[0, 0] == pytest.approx(0.8) and shares[1, 1] == pytest.approx(1.0)


def test_the_lineage_drawing_has_every_node_and_dashes_the_baseline():
    graph = lr.LineageGraph(root="a5")
    for node in [
        lr.Node("a1", "artifact", 1, "Examples", "span 2"),
        lr.Node("e2", "execution", 2, "Trainer"),
        lr.Node("a3", "artifact", 3, "Model", producer_id=2),
        lr.Node("a9", "artifact", 9, "Model", producer_id=1),
        lr.Node("e4", "execution", 4, "Pusher"),
        lr.Node("a5", "artifact", 5, "PushedModel", "version 7", producer_id=4),
    ]:
        graph.nodes[node.key] = node
    for source, target, role in [
        ("a1", "e2", "examples"),
        ("e2", "a3", "output"),
        ("a3", "e4", "model"),
        ("a9", "e4", "baseline_model"),
        ("e4", "a5", "output"),
    ]:
        graph.add_edge(source, target, role)
    ax = plots.lineage_figure(graph).axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert labels == {
        "Examples #1\nspan 2",
        "Trainer #2",
        "Model #3",
        "Model #9",
        "Pusher #4",
        "PushedModel #5\nversion 7",
    }
    positions = {t.get_text().split("\n")[0]: t.get_position() for t in ax.texts}
    assert positions["Examples #1"][1] > positions["Model #3"][1] > positions["PushedModel #5"][1]  # data on top
    dashed = [p for p in ax.patches if p.get_linestyle() not in ("-", "solid")]
    assert len(ax.patches) == 5 and len(dashed) == 1
