"""Sampling synthetic legal provisions: deterministic from a seed, never the global RNG."""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from datagen import clause_types as ct

LABELS = sorted(ct.CORE)
FIELDS = ("text", "label", "source")
MIN_WORDS, MAX_WORDS = 8, 250
MAX_SENTENCES = 6

# Hardness knobs, tuned so a TF-IDF + linear model lands around 0.9 accuracy (not 1.0).
P_BORROWED_LEAD = 0.06  # the provision's first sentence comes from a neighbouring type
P_BORROWED = 0.25  # each further sentence comes from a neighbouring type
P_OPENER, P_CLOSER, P_NUMBER = 0.30, 0.15, 0.35

_ALTERNATION = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Sample:
    text: str
    label: str  # as written (may be noisy)
    true_label: str  # what the text was generated as
    drifted: bool


@dataclass(frozen=True)
class _Style:
    parties: list
    durations: list
    terms: list
    amounts: list
    sections: list
    subjects: list
    titles: list
    openers: list
    closers: list
    templates: dict
    numbering_word: str


_CORE = _Style(
    ct.PARTIES,
    ct.DURATIONS,
    ct.TERMS,
    ct.AMOUNTS,
    ct.SECTIONS,
    ct.SUBJECTS,
    ct.TITLES,
    ct.OPENERS,
    ct.CLOSERS,
    ct.CORE,
    "Section",
)
_DRIFT = _Style(
    ct.DRIFT_PARTIES,
    ct.DRIFT_DURATIONS,
    ct.DRIFT_TERMS,
    ct.DRIFT_AMOUNTS,
    ct.DRIFT_SECTIONS,
    ct.DRIFT_SUBJECTS,
    ct.DRIFT_TITLES,
    ct.DRIFT_OPENERS,
    ct.DRIFT_CLOSERS,
    ct.DRIFT,
    "Clause",
)


def _fill(template: str, rng: random.Random, style: _Style, parties: tuple) -> str:
    a, b = parties

    def slot(match: re.Match) -> str:
        name = match.group(1)
        if name in ("a", "A", "b", "B"):
            value = a if name.lower() == "a" else b
        elif name in ("t", "T"):
            value = rng.choice(style.subjects)
        elif name in ("m", "M"):
            value = rng.choice(style.amounts)
        elif name == "ts":
            value = f"{rng.choice(style.sections)} ({rng.choice(style.titles)})"
        else:
            value = rng.choice(
                {
                    "d": style.durations,
                    "y": style.terms,
                    "j": ct.JURISDICTIONS,
                    "c": ct.CITIES,
                    "s": style.sections,
                    "org": ct.ARBITRAL_BODIES,
                }[name]
            )
        return value.upper() if name.isupper() else value

    text = _ALTERNATION.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    text = _SLOT.sub(slot, text)
    return text[0].upper() + text[1:]


def _sentence_count(rng: random.Random) -> int:
    # Long tail: half the provisions are one sentence, a few are long multi-part clauses.
    return min(1 + int(rng.expovariate(0.6)), MAX_SENTENCES)


def _with_opener(opener: str, sentence: str) -> str:
    if sentence.isupper():
        return f"{opener.upper()} {sentence}"
    first = sentence.split(" ", 1)[0]
    if first in ct.LOWERABLE:
        sentence = sentence[0].lower() + sentence[1:]
    return f"{opener} {sentence}"


def _pick(label: str, rng: random.Random, style: _Style, drifted: bool) -> str:
    """A template for a non-leading sentence of a `label` provision."""
    roll = rng.random()
    if roll < P_BORROWED:
        return rng.choice(style.templates[rng.choice(ct.OVERLAP[label])])
    if drifted:
        # Shifted contracts mix old and new drafting and sprinkle data-protection boilerplate.
        if roll < P_BORROWED + 0.20:
            return rng.choice(ct.DRIFT_SHARED)
        if roll < P_BORROWED + 0.28:
            return rng.choice(ct.CORE[label])
    return rng.choice(style.templates[label])


def _provision(label: str, rng: random.Random, drifted: bool) -> str:
    style = _DRIFT if drifted else _CORE
    parties = rng.choice(style.parties)
    if parties not in ct.FIXED_ROLES and rng.random() < 0.5:
        parties = parties[::-1]
    if rng.random() < P_BORROWED_LEAD:
        lead = rng.choice(style.templates[rng.choice(ct.OVERLAP[label])])
    else:
        lead = rng.choice(style.templates[label])
    templates = [lead] + [_pick(label, rng, style, drifted) for _ in range(_sentence_count(rng) - 1)]
    # A provision does not state the same sentence twice.
    sentences = [_fill(t, rng, style, parties) for t in dict.fromkeys(templates)]
    # Very short provisions get an opener, so none is under MIN_WORDS.
    if rng.random() < P_OPENER or len(sentences[0].split()) < MIN_WORDS:
        sentences[0] = _with_opener(_fill(rng.choice(style.openers), rng, style, parties), sentences[0])
    if rng.random() < P_CLOSER:
        sentences.append(_fill(rng.choice(style.closers), rng, style, parties))
    while len(sentences) > 1 and sum(len(s.split()) for s in sentences) > MAX_WORDS:
        sentences.pop(-2 if len(sentences) > 2 else -1)
    text = " ".join(sentences)
    if rng.random() < P_NUMBER:
        major, minor = rng.randint(1, 24), rng.randint(1, 9)
        prefix = rng.choice(
            [
                f"{major}.{minor}",
                f"({rng.choice('abcdefgh')})",
                f"{style.numbering_word} {major}.",
                f"{major}.",
                f"{major}.{minor}({rng.choice('abcd')})",
            ]
        )
        text = f"{prefix} {text}"
    return " ".join(text.split())  # one physical line, single spaces, stripped


def _row_rng(seed: int, index: int) -> random.Random:
    # One stream per row: a row does not depend on n, noise or other rows' drift.
    digest = hashlib.sha256(f"lexflow-datagen/{seed}/{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _generate(n: int, seed: int = 7, noise: float = 0.03, drift: float = 0.0) -> list[Sample]:
    """Samples with their true (pre-noise) label and drift flag; tests measure noise and drift on these."""
    if n < 0 or not 0 <= noise <= 1 or not 0 <= drift <= 1:
        raise ValueError("need n >= 0 and noise, drift in [0, 1]")
    weights = [ct.WEIGHTS[label] for label in LABELS]
    samples = []
    for index in range(n):
        rng = _row_rng(seed, index)
        # Fixed draw order, so noise flips labels only and more drift only shifts more rows.
        label = rng.choices(LABELS, weights)[0]
        drifted = rng.random() < drift
        wrong = rng.random() < noise
        wrong_label = rng.choice([other for other in LABELS if other != label])
        text = _provision(label, rng, drifted)
        samples.append(Sample(text, wrong_label if wrong else label, label, drifted))
    return samples


def generate_rows(n: int, seed: int = 7, noise: float = 0.03, drift: float = 0.0, source: str = "corpus") -> list[dict]:
    """`n` provisions as dicts with text, label, source. Same arguments, same rows."""
    return [{"text": s.text, "label": s.label, "source": source} for s in _generate(n, seed, noise, drift)]


def write_csv(path: Path | str, rows: Iterable[dict]) -> Path:
    """Write rows as UTF-8 CSV (header text,label,source), creating parent directories."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=FIELDS, quoting=csv.QUOTE_MINIMAL, lineterminator="\n", extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
    return path
