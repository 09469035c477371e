"""Sampling synthetic legal provisions: deterministic from a seed, never the global RNG."""
from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Iterable

from datagen import clause_types as ct

LABELS = sorted(ct.CORE)
FIELDS = ("text", "label", "source")


def _fill(template: str, rng: random.Random, parties) -> str:
    a, b = parties
    out = template.format(
        a=a, b=b, A=a.upper(), d=rng.choice(ct.DURATIONS), m=rng.choice(ct.AMOUNTS),
        j=rng.choice(ct.JURISDICTIONS), c=rng.choice(ct.CITIES), section=rng.choice(ct.SECTIONS),
    )
    return out[0].upper() + out[1:]


def _sentence_count(rng: random.Random) -> int:
    # Long tail: most provisions are 1-3 sentences, a few are long multi-part clauses.
    return min(1 + int(rng.expovariate(0.7)), 7)


def _provision(label: str, rng: random.Random, drifted: bool) -> str:
    parties = rng.choice(ct.DRIFT_PARTIES if drifted else ct.PARTIES)
    if rng.random() < 0.5:
        parties = parties[::-1]
    own = ct.DRIFT.get(label, []) if drifted else ct.CORE[label]
    sentences = [_fill(rng.choice(own), rng, parties)]
    for _ in range(_sentence_count(rng) - 1):
        if rng.random() < 0.25 and label in ct.OVERLAP:
            neighbour = rng.choice(ct.OVERLAP[label])
            sentences.append(_fill(rng.choice(ct.CORE[neighbour]), rng, parties))
        else:
            pool = own + ct.CORE[label] if drifted else own
            sentences.append(_fill(rng.choice(pool), rng, parties))
    rng.shuffle(sentences)
    if rng.random() < 0.3:
        opener = _fill(rng.choice(ct.OPENERS), rng, parties)
        sentences[0] = f"{opener} {sentences[0][0].lower()}{sentences[0][1:]}"
    if rng.random() < 0.15:
        sentences.append(_fill(rng.choice(ct.CLOSERS), rng, parties))
    text = " ".join(dict.fromkeys(sentences))  # a provision does not repeat a sentence verbatim
    if rng.random() < 0.35:
        prefix = rng.choice([f"{rng.randint(1, 20)}.{rng.randint(1, 9)}", f"({rng.choice('abcdefgh')})",
                             f"Section {rng.randint(1, 20)}.", f"{rng.randint(1, 20)}."])
        text = f"{prefix} {text}"
    return text


def _generate(n: int, seed: int, noise: float, drift: float, source: str) -> list[tuple[dict, str]]:
    """Rows with their clean (pre-noise) label, for tests that measure the noise."""
    if n < 0 or not 0 <= noise <= 1 or not 0 <= drift <= 1:
        raise ValueError("need n >= 0 and noise, drift in [0, 1]")
    rng = random.Random(seed)
    weights = [ct.WEIGHTS[label] for label in LABELS]
    rows = []
    for _ in range(n):
        label = rng.choices(LABELS, weights)[0]
        drifted = rng.random() < drift and label in ct.DRIFT
        text = _provision(label, rng, drifted)
        written = label
        if rng.random() < noise:
            written = rng.choice([other for other in LABELS if other != label])
        rows.append(({"text": text, "label": written, "source": source}, label))
    return rows


def generate_rows(n: int, seed: int = 7, noise: float = 0.03, drift: float = 0.0, source: str = "corpus") -> list[dict]:
    """`n` provisions as dicts with text, label, source. Same arguments, same rows."""
    return [row for row, _ in _generate(n, seed, noise, drift, source)]


def write_csv(path: Path | str, rows: Iterable[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
