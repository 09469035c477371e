"""Proxy datasets for the quality benchmark: variants of the real ones the defaults were never looked at on.

    python -m benchmarks.proxy_datasets --out /tmp/lexflow-proxies
    python -m benchmarks.quality --datasets-dir /tmp/lexflow-proxies --dataset cuad_half --dataset legal_mix

They are derived from `../shared/datasets` (read in place) and written outside the repository
(`--out`), each as `<name>/{train,test}.csv`. Test rows only ever come from the source's test split.

- `cuad_half`: cuad_clauses with half of its train rows (hash of the text), same test split: less data.
- `legal_mix`: cuad_clauses plus the unfair_tos_en sentences that are not `none`, as one 46-class
  task: another label distribution and two text styles (contract clauses, terms-of-service sentences).
- `scale_proxy`: LEDGAR-sized (60,000 train rows, 10,000 test rows, 100 classes, ~100 words per
  row): each row joins 1-3 texts of one source label; the class is that label split by modal verb
  (shall / may / neither) in the first text, 100 most frequent kept. For the time budget on large
  data; its labels are synthetic, so its scores say little about legal text.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import random
from pathlib import Path

import typer

from benchmarks.quality import DEFAULT_DATASETS_DIR

NAMES = ("cuad_half", "legal_mix", "scale_proxy")


def _read(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["label"]) for row in csv.DictReader(handle)]


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def _modal(text: str) -> str:
    words = f" {text.lower()} "
    return "shall" if " shall " in words else "may" if " may " in words else "other"


def _joined(texts_by_label: dict[str, list[str]], n: int, rng: random.Random) -> list[tuple[str, str]]:
    labels = sorted(texts_by_label)
    weights = [len(texts_by_label[label]) ** 0.5 for label in labels]  # flatter than the sources
    rows = []
    for _ in range(n):
        label = rng.choices(labels, weights)[0]
        texts = [rng.choice(texts_by_label[label]) for _ in range(rng.choice((1, 2, 3)))]
        rows.append((" ".join(texts), f"{label}/{_modal(texts[0])}"))
    return rows


def make(
    source: Path, out: Path, seed: int = 0, scale_rows: tuple[int, int] = (60_000, 10_000), scale_classes: int = 100
) -> dict[str, tuple[int, int, int]]:
    """Write the proxies; returns name -> (train rows, test rows, classes)."""
    cuad = {split: _read(source / "cuad_clauses" / f"{split}.csv") for split in ("train", "test")}
    tos = {split: _read(source / "unfair_tos_en" / f"{split}.csv") for split in ("train", "test")}
    half = [row for row in cuad["train"] if int(hashlib.sha1(row[0].encode()).hexdigest(), 16) % 2 == 0]
    datasets = {
        "cuad_half": (half, cuad["test"]),
        "legal_mix": tuple(cuad[s] + [row for row in tos[s] if row[1] != "none"] for s in ("train", "test")),
    }
    rng = random.Random(seed)
    pools = {}
    for split in ("train", "test"):
        pool = collections.defaultdict(list)
        for text, label in cuad[split] + tos[split]:
            pool[label].append(text)
        pools[split] = pool
    # 10 % more rows than kept: the classes beyond the most frequent `scale_classes` are dropped.
    train, test = (
        _joined(pools[split], rows + rows // 10, rng) for split, rows in zip(("train", "test"), scale_rows, strict=True)
    )
    keep = {label for label, _ in collections.Counter(label for _, label in train).most_common(scale_classes)}
    datasets["scale_proxy"] = (
        [r for r in train if r[1] in keep][: scale_rows[0]],
        [r for r in test if r[1] in keep][: scale_rows[1]],
    )
    summary = {}
    for name, (train_rows, test_rows) in datasets.items():
        _write(out / name / "train.csv", train_rows)
        _write(out / name / "test.csv", test_rows)
        summary[name] = (len(train_rows), len(test_rows), len({label for _, label in train_rows}))
    return summary


def main(
    out: Path = typer.Option(..., help="Where <name>/{train,test}.csv go (outside the repository)."),
    datasets_dir: Path = typer.Option(DEFAULT_DATASETS_DIR, help="The real datasets."),
    seed: int = typer.Option(0, help="Seed of the scale proxy's sampling."),
) -> None:
    for name, (train_rows, test_rows, classes) in make(datasets_dir, out, seed).items():
        typer.echo(f"{out / name}: {train_rows} train rows, {test_rows} test rows, {classes} classes")


if __name__ == "__main__":
    typer.run(main)
