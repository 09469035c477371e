"""The demo data generator: deterministic, realistic enough to be non-trivial, drift on demand."""
import csv
import statistics
from collections import Counter
from pathlib import Path

import pytest

from datagen import LABELS, generate_rows, write_csv
from datagen.generator import _generate

REPO = Path(__file__).resolve().parent.parent


def test_same_seed_same_rows_other_seed_other_rows():
    assert generate_rows(300, seed=5) == generate_rows(300, seed=5)
    assert generate_rows(300, seed=5) != generate_rows(300, seed=6)


def test_checked_in_demo_data_is_what_the_generator_makes(tmp_path):
    regenerated = write_csv(tmp_path / "corpus.csv", generate_rows(3000, seed=7))
    assert regenerated.read_bytes() == (REPO / "data" / "demo" / "span-0" / "corpus.csv").read_bytes()


def test_rows_are_clean_single_line_texts_with_known_labels():
    rows = generate_rows(2000, seed=1)
    assert {r["label"] for r in rows} == set(LABELS) and len(LABELS) >= 10
    for row in rows:
        assert row["text"] == row["text"].strip() and row["text"] and "\n" not in row["text"]
        assert row["source"] == "corpus"


def test_length_variety_and_imbalance():
    rows = generate_rows(3000, seed=2)
    words = [len(r["text"].split()) for r in rows]
    assert min(words) < 15 and max(words) > 120 and 20 < statistics.median(words) < 60
    counts = Counter(r["label"] for r in rows).most_common()
    assert 2.0 <= counts[0][1] / counts[-1][1] <= 6.0


def test_label_noise_rate_matches_the_setting():
    pairs = _generate(4000, seed=3, noise=0.05, drift=0.0, source="corpus")
    flipped = sum(row["label"] != clean for row, clean in pairs) / len(pairs)
    assert 0.035 < flipped < 0.065
    assert all(row["label"] == clean for row, clean in _generate(500, 3, 0.0, 0.0, "corpus"))


def test_drift_changes_vocabulary():
    def rate(rows, word):
        return sum(word in r["text"].lower() for r in rows) / len(rows)

    plain, drifted = generate_rows(1000, seed=4), generate_rows(1000, seed=4, drift=1.0)
    assert rate(plain, "whilst") == 0 and rate(drifted, "whilst") > 0.05
    assert rate(drifted, "contract") > 3 * rate(plain, "contract") + 0.05


def test_csv_round_trip(tmp_path):
    rows = generate_rows(200, seed=8, source="feedback")
    path = write_csv(tmp_path / "x" / "rows.csv", rows)
    with path.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == rows


def test_learnable_but_not_trivial_and_drift_hurts():
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    rows = generate_rows(3000, seed=9)
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    model = LinearSVC().fit(vectorizer.fit_transform(texts[:2400]), labels[:2400])
    accuracy = (model.predict(vectorizer.transform(texts[2400:])) == labels[2400:]).mean()
    assert 0.75 < accuracy < 0.985
    shifted = generate_rows(600, seed=10, drift=1.0)
    drift_accuracy = (model.predict(vectorizer.transform([r["text"] for r in shifted])) == [r["label"] for r in shifted]).mean()
    assert drift_accuracy < accuracy - 0.1


def test_invalid_arguments():
    with pytest.raises(ValueError):
        generate_rows(10, noise=1.5)
