"""The demo-data generator: deterministic, realistic enough to be non-trivial, drift that bites."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from datagen import LABELS, generate_rows, write_csv
from datagen.generator import MAX_WORDS, _generate


def _words(text):
    return len(text.split())


def test_same_seed_same_rows_and_bytes(tmp_path):
    assert generate_rows(300, seed=5) == generate_rows(300, seed=5)
    a = write_csv(tmp_path / "a" / "c.csv", generate_rows(300, seed=5, drift=0.3))
    b = write_csv(tmp_path / "b" / "c.csv", generate_rows(300, seed=5, drift=0.3))
    assert a.read_bytes() == b.read_bytes()


def test_different_seed_different_rows():
    assert generate_rows(300, seed=5) != generate_rows(300, seed=6)


def test_rows_have_public_keys_and_source():
    rows = generate_rows(50, source="span-7")
    assert all(set(r) == {"text", "label", "source"} for r in rows)
    assert {r["source"] for r in rows} == {"span-7"}
    assert {r["source"] for r in generate_rows(10)} == {"corpus"}


def test_labels_declared_and_varied():
    assert len(LABELS) == 12
    counts = Counter(r["label"] for r in generate_rows(2000))
    assert set(counts) <= set(LABELS)
    assert len(counts) >= 10


def test_texts_clean_single_line_and_varied_in_length():
    rows = generate_rows(2000, seed=1, drift=0.2)
    texts = [r["text"] for r in rows]
    assert all(t and t == t.strip() and "\n" not in t and "\r" not in t for t in texts)
    assert not any(c in t for t in texts for c in "{}[]|")  # no unfilled slot or alternation
    lengths = [_words(t) for t in texts]
    assert min(lengths) < 15 and max(lengths) > 120 and max(lengths) <= MAX_WORDS + 20
    assert len(set(texts)) > 0.9 * len(texts)
    assert any(s.isupper() and len(s) > 30 for t in texts for s in t.split(". "))  # ALL-CAPS sentences occur


def test_class_imbalance_is_moderate():
    counts = Counter(r["label"] for r in generate_rows(3000, noise=0.0))
    ratio = max(counts.values()) / min(counts.values())
    assert 2 <= ratio <= 6


def test_noise_fraction_matches():
    def wrong(noise):
        samples = _generate(2000, seed=3, noise=noise)
        return sum(s.label != s.true_label for s in samples) / len(samples)

    assert wrong(0.0) == 0
    assert 0.015 <= wrong(0.03) <= 0.05
    assert 0.16 <= wrong(0.2) <= 0.24
    # Noise changes labels only, never the texts.
    assert [s.text for s in _generate(200, seed=3, noise=0.0)] == [s.text for s in _generate(200, seed=3, noise=0.5)]


def test_rows_are_stable_under_n_and_drift():
    assert generate_rows(50, seed=4) == generate_rows(200, seed=4)[:50]
    low, high = _generate(400, seed=4, drift=0.2), _generate(400, seed=4, drift=0.6)
    assert all(h.drifted for lo, h in zip(low, high, strict=True) if lo.drifted)
    assert all(lo.text == h.text for lo, h in zip(low, high, strict=True) if not h.drifted)


def test_drift_shifts_vocabulary_but_keeps_true_labels():
    def share(rows, needles):
        return sum(any(n in r["text"].lower() for n in needles) for r in rows) / len(rows)

    needles = ("whilst", "personal data", "this contract", "clause")
    plain, shifted = generate_rows(1000, seed=2), generate_rows(1000, seed=2, drift=1.0)
    assert share(plain, needles) < 0.05
    assert share(shifted, needles) > 0.5
    samples = _generate(500, seed=2, noise=0.0, drift=1.0)
    assert all(s.drifted and s.label == s.true_label for s in samples)
    mixed = _generate(2000, seed=2, drift=0.25)
    assert 0.2 <= sum(s.drifted for s in mixed) / len(mixed) <= 0.3


def test_csv_round_trip(tmp_path):
    rows = generate_rows(400, seed=9, drift=0.5, source="corpus")
    path = write_csv(tmp_path / "deep" / "span-0" / "corpus.csv", rows)
    raw = path.read_text(encoding="utf-8")
    assert raw.splitlines()[0] == "text,label,source"
    assert len(raw.splitlines()) == len(rows) + 1  # one physical line per record
    with path.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == rows


def test_invalid_arguments_rejected():
    with pytest.raises(ValueError):
        generate_rows(10, noise=1.5)
    with pytest.raises(ValueError):
        generate_rows(10, drift=-0.1)


def test_cli_writes_csv_and_summary(tmp_path):
    from typer.testing import CliRunner

    from datagen.cli import app

    out = tmp_path / "x" / "corpus.csv"
    result = CliRunner().invoke(app, ["--out", str(out), "--rows", "120", "--seed", "4", "--source", "s1"])
    assert result.exit_code == 0, result.output
    assert "120 rows" in result.output and "\n" not in result.output.strip()
    with out.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == generate_rows(120, seed=4, source="s1")


@pytest.fixture(scope="module")
def drift0_model():
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    rows = generate_rows(3000, seed=7)
    train, test = rows[:2400], rows[2400:]
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC())
    model.fit([r["text"] for r in train], [r["label"] for r in train])
    return model, test


def _accuracy(model, rows):
    return model.score([r["text"] for r in rows], [r["label"] for r in rows])


def test_learnable_but_not_trivial(drift0_model):
    model, test = drift0_model
    assert 0.75 <= _accuracy(model, test) <= 0.985


def test_model_trained_without_drift_degrades_on_drifted_rows(drift0_model):
    model, test = drift0_model
    drifted = generate_rows(600, seed=70, drift=1.0)
    assert _accuracy(model, drifted) <= _accuracy(model, test) - 0.1


def test_checked_in_demo_data_is_what_the_generator_makes(tmp_path):
    """data/demo is produced by the project's own generator (`make demo-data`), byte for byte."""
    repo = Path(__file__).resolve().parents[2]
    regenerated = write_csv(tmp_path / "corpus.csv", generate_rows(3000, seed=7))
    assert regenerated.read_bytes() == (repo / "data" / "demo" / "span-0" / "corpus.csv").read_bytes()
