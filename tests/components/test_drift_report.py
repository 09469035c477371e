"""The drift report (components/drift_check/report.py): one self-contained HTML page whose plots
show each measure with its statistic and threshold."""

import base64
import re
from datetime import datetime, timezone

import pytest

from components.drift_check.drift import DriftResult, Measure, Sample
from components.drift_check.report import render_report, shifted_tokens, unseen_tokens

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def samples():
    from datagen import generate_rows

    return Sample.from_rows(generate_rows(150, seed=4, drift=1.0)), Sample.from_rows(generate_rows(200, seed=5))


def _result(current, baseline):
    return DriftResult(
        len(current.texts),
        len(baseline.texts),
        [
            Measure("label", "L_INFTY", 0.05, 0.2),
            Measure("text_length", "JENSEN_SHANNON_DIVERGENCE", 0.04, 0.2),
            Measure("vocabulary", "JENSEN_SHANNON_DIVERGENCE", 0.31, 0.15),
            Measure("vocabulary", "OOV_RATE", 0.12, 0.2),
        ],
    )


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_one_self_contained_page_with_a_plot_per_measure(samples):
    current, baseline = samples
    when = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    html = render_report(_result(current, baseline), current, baseline, "span 3", "span 2", "drift: span 3", (), when)
    images = _images(html)
    assert len(images) == 4 and all(image.startswith(PNG) and len(image) > 5_000 for image in images)
    # Nothing is fetched: no URL, script, stylesheet link or external source of any kind.
    assert not re.search(r"https?://|<script|<link|@import|url\(", html, re.IGNORECASE)
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', html))
    assert "2025-03-01 12:00:00 UTC" in html and "span 3 (150 rows) vs. span 2 (200 rows)" in html
    assert 'id="verdict">DRIFT: 1 of 4 measures' in html
    for statistic in (
        "label l_infty = 0.0500, threshold 0.2: ok",
        "text_length jensen_shannon_divergence = 0.0400, threshold 0.2: ok",
        "vocabulary jensen_shannon_divergence = 0.3100, threshold 0.15: DRIFT",
        "vocabulary oov_rate = 0.1200, threshold 0.2: ok",
    ):
        assert statistic in html
    for section in ("Label distribution", "Text length", "Most shifted tokens", "Unseen tokens"):
        assert f"<h2>{section}</h2>" in html


def test_without_a_baseline_the_page_says_nothing_was_measured(samples):
    current, _ = samples
    result = DriftResult(len(current.texts), 0, note="no drift measured: no previous span")
    html = render_report(result, current, Sample([], []), "span 0", "no previous span", "drift: span 0")
    assert 'id="verdict">not measured' in html and "no drift measured: no previous span" in html
    assert len(_images(html)) == 4  # the new span's own distributions still show


def test_text_from_the_data_is_escaped(samples):
    _, baseline = samples
    hostile = Sample(['<script>alert("x")</script> clause'] * 3, ["<img src=x onerror=alert(1)>"] * 3)
    html = render_report(_result(hostile, baseline), hostile, baseline, "<b>live</b>", "window", "t", ["<i>note</i>"])
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>live</b>" not in html
    assert "&lt;b&gt;live&lt;/b&gt;" in html and "&lt;i&gt;note&lt;/i&gt;" in html


def test_the_most_shifted_and_unseen_tokens_are_the_ones_that_moved():
    baseline = Sample(["the party shall pay", "the party shall notify"], ["a", "b"])
    current = Sample(["the controller shall process data", "the controller shall process"], ["a", "a"])
    moved = [token for token, _, _ in shifted_tokens(current, baseline, top=3)]
    assert set(moved) == {"controller", "process", "party"}
    assert unseen_tokens(current, baseline) == [("controller", 2), ("process", 2), ("data", 1)]
    base_share, current_share = next((b, c) for t, b, c in shifted_tokens(current, baseline) if t == "party")
    assert base_share == pytest.approx(2 / 8) and current_share == 0
