"""The drift report a person opens: one self-contained HTML file (Jinja2, PNGs embedded as base64).

`drift.measure_drift` decides; this module shows why, with the distributions behind each measure:
labels (L-infinity), text length (Jensen-Shannon), the most shifted tokens (what moves the
vocabulary's Jensen-Shannon divergence) and the share of unseen tokens, each next to its
statistic and threshold. The file fetches nothing (no scripts, fonts or stylesheets from the
internet), so it opens from an artifact directory, an e-mail or the gateway alike.

Used by DriftCheck's executor (newest span vs. the previous one, `drift.html` next to
`drift.json`) and by `lexflow drift --live` (live traffic vs. the training window).
"""

from __future__ import annotations

import base64
import io
import json
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from components.drift_check.drift import DriftResult, Measure, Sample

HTML_FILE = "drift.html"
TOP_TOKENS = 15
_MAX_LABELS = 30  # beyond this the label chart shows the most shifted ones
_CURRENT, _BASELINE = "#d95f02", "#1b9e77"


@dataclass(frozen=True)
class Section:
    title: str
    measure: Optional[Measure]
    image: str  # base64 PNG
    explanation: str


# --- the distributions behind the measures ------------------------------------------------------


def shares(values: Sequence[str]) -> dict[str, float]:
    counts = Counter(values)
    total = sum(counts.values()) or 1
    return {key: n / total for key, n in counts.items()}


def shifted_tokens(current: Sample, baseline: Sample, top: int = TOP_TOKENS) -> list[tuple[str, float, float]]:
    """(token, baseline share, current share) of the tokens whose share of all tokens moved most."""
    cur, base = shares(current.tokens()), shares(baseline.tokens())
    moved = sorted(set(cur) | set(base), key=lambda t: (-abs(cur.get(t, 0.0) - base.get(t, 0.0)), t))
    return [(t, base.get(t, 0.0), cur.get(t, 0.0)) for t in moved[:top]]


def unseen_tokens(current: Sample, baseline: Sample, top: int = TOP_TOKENS) -> list[tuple[str, int]]:
    """The most frequent new tokens that the baseline never had, with their counts."""
    seen = set(baseline.tokens())
    counts = Counter(t for t in current.tokens() if t not in seen)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


# --- plots (matplotlib's object API: no pyplot state, no display needed) -------------------------


def _figure(height: float = 3.2) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(7.5, height), dpi=100, layout="constrained")


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "glyph missing" for scripts DejaVu Sans lacks
        figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _title(ax: Any, text: str, measure: Optional[Measure]) -> None:
    if measure is not None:
        verdict = "DRIFT" if measure.drifted else "ok"
        text += f"\n{measure.metric.lower()} {measure.value:.3f} (threshold {measure.threshold:g}): {verdict}"
    ax.set_title(text, fontsize=10, color="#b00020" if measure is not None and measure.drifted else "black")


def label_plot(current: Sample, baseline: Sample, names: tuple[str, str], measure: Optional[Measure]) -> str:
    import numpy as np

    cur, base = shares(current.labels), shares(baseline.labels)
    labels = sorted(set(cur) | set(base), key=lambda k: (-abs(cur.get(k, 0) - base.get(k, 0)), k))[:_MAX_LABELS]
    labels.sort(key=lambda k: (-base.get(k, cur.get(k, 0)), k))
    figure = _figure(max(3.2, 0.28 * len(labels) + 1.2))
    ax = figure.subplots()
    y = np.arange(len(labels))
    if base:
        ax.barh(y - 0.2, [base.get(k, 0) for k in labels], 0.4, label=names[1], color=_BASELINE)
    ax.barh(y + (0.2 if base else 0), [cur.get(k, 0) for k in labels], 0.4, label=names[0], color=_CURRENT)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of rows")
    ax.legend(fontsize=8, loc="lower right")
    _title(ax, "label distribution", measure)
    return _png(figure)


def length_plot(current: Sample, baseline: Sample, names: tuple[str, str], measure: Optional[Measure]) -> str:
    import numpy as np

    cur, base = current.lengths(), baseline.lengths()
    both = np.asarray(cur + base, dtype=float)
    # Common bins, clipped at the 99th percentile so one huge text does not flatten the rest.
    top = float(np.percentile(both, 99)) if both.size else 1.0
    bins = np.linspace(0, max(top, 1.0), 31)
    figure = _figure()
    ax = figure.subplots()
    for values, name, color in ((base, names[1], _BASELINE), (cur, names[0], _CURRENT)):
        if values:
            weights = np.full(len(values), 1.0 / len(values))
            ax.hist(np.clip(values, 0, bins[-1]), bins=bins, weights=weights, alpha=0.55, label=name, color=color)
    ax.set_xlabel("tokens per text (last bin: 99th percentile and above)")
    ax.set_ylabel("share of rows")
    ax.legend(fontsize=8)
    _title(ax, "text length", measure)
    return _png(figure)


def token_shift_plot(current: Sample, baseline: Sample, names: tuple[str, str], measure: Optional[Measure]) -> str:
    import numpy as np

    rows = shifted_tokens(current, baseline) if baseline.texts else []
    figure = _figure(max(3.2, 0.26 * len(rows) + 1.2))
    ax = figure.subplots()
    if rows:
        diffs = [100 * (cur - base) for _, base, cur in rows]
        y = np.arange(len(rows))
        ax.barh(y, diffs, color=[_CURRENT if d > 0 else _BASELINE for d in diffs])
        ax.set_yticks(y, [t for t, _, _ in rows], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"change in share of all tokens, percentage points ({names[0]} minus {names[1]})")
    else:
        ax.text(0.5, 0.5, "no baseline to compare with", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    _title(ax, f"most shifted tokens (top {len(rows)})", measure)
    return _png(figure)


def unseen_plot(current: Sample, baseline: Sample, names: tuple[str, str], measure: Optional[Measure]) -> str:
    import numpy as np

    figure = _figure(3.6)
    gauge, top = figure.subplots(1, 2, width_ratios=[1, 3])
    rate = measure.value if measure is not None else 0.0
    gauge.bar([0], [rate], color="#b00020" if measure is not None and measure.drifted else _CURRENT, width=0.6)
    if measure is not None:
        gauge.axhline(measure.threshold, color="black", linestyle="--", linewidth=1)
        gauge.text(0.32, measure.threshold, f" threshold {measure.threshold:g}", fontsize=7, va="bottom")
    gauge.set_xticks([0], [names[0]], fontsize=8)
    gauge.set_ylim(0, max(rate, measure.threshold if measure is not None else 0.0, 0.05) * 1.3)
    gauge.set_ylabel("share of tokens unseen")
    rows = unseen_tokens(current, baseline) if baseline.texts else []
    if rows:
        y = np.arange(len(rows))
        top.barh(y, [n for _, n in rows], color=_CURRENT)
        top.set_yticks(y, [t for t, _ in rows], fontsize=8)
        top.invert_yaxis()
        top.set_xlabel(f"occurrences in {names[0]}")
        top.set_title("most frequent unseen tokens", fontsize=9)
    else:
        top.text(0.5, 0.5, "no unseen tokens" if baseline.texts else "no baseline", ha="center", va="center")
        top.set_axis_off()
    _title(gauge, "unseen tokens", measure)
    return _png(figure)


# --- the page ------------------------------------------------------------------------------------


def _measure(result: DriftResult, feature: str, metric: str) -> Optional[Measure]:
    return next((m for m in result.measures if m.feature == feature and m.metric == metric), None)


def sections(result: DriftResult, current: Sample, baseline: Sample, names: tuple[str, str]) -> list[Section]:
    label = _measure(result, "label", "L_INFTY")
    length = _measure(result, "text_length", "JENSEN_SHANNON_DIVERGENCE")
    vocabulary = _measure(result, "vocabulary", "JENSEN_SHANNON_DIVERGENCE")
    oov = _measure(result, "vocabulary", "OOV_RATE")
    return [
        Section(
            "Label distribution",
            label,
            label_plot(current, baseline, names, label),
            "L-infinity distance (TFDV): the largest change in any one label's share of the rows.",
        ),
        Section(
            "Text length",
            length,
            length_plot(current, baseline, names, length),
            "Jensen-Shannon divergence (TFDV) of the number of word tokens per text: 0 when the "
            "length distributions match, 1 when they do not overlap.",
        ),
        Section(
            "Most shifted tokens",
            vocabulary,
            token_shift_plot(current, baseline, names, vocabulary),
            "Jensen-Shannon divergence (TFDV) of the token distributions; the chart shows the tokens "
            "whose share of all tokens changed most, which are what moves it.",
        ),
        Section(
            "Unseen tokens",
            oov,
            unseen_plot(current, baseline, names, oov),
            "Share of the new sample's tokens that never occur in the baseline: words a "
            "vocabulary-based model has no feature for.",
        ),
    ]


def render_report(
    result: DriftResult,
    current: Sample,
    baseline: Sample,
    current_name: str,
    baseline_name: str,
    title: str,
    notes: Sequence[str] = (),
    generated_at: Optional[datetime] = None,
) -> str:
    """The whole report as one HTML string."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("components.drift_check", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    names = (current_name, baseline_name)
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S UTC")
    return environment.get_template("drift_report.html.j2").render(
        title=title,
        generated_at=when,
        result=result,
        current_name=current_name,
        baseline_name=baseline_name,
        notes=[n for n in (result.note, *notes) if n],
        sections=sections(result, current, baseline, names),
        raw=json.dumps(result.to_dict(), indent=2),
    )
