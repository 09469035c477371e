"""Smoke tests of the quality suite (benchmarks/suite_datasets.py), its use by the quality benchmark
and the recipe study (benchmarks/recipe_study.py).

The converters run on small git repositories made here in the upstream layouts (no network, no
fetched snapshot); the committed datasets are read as the suite reads them; the recipe study's
pieces run on toy data. No pipeline runs and nothing is timed.
"""

import csv
import gzip
import io
import json
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from benchmarks import quality, recipe_study, suite_datasets

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def _git_repo(root: Path, files: dict[str, bytes]) -> tuple[Path, str]:
    """A git repository with these files committed; (its .git dir, the commit)."""
    root.mkdir(parents=True)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    run = {"cwd": root, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q"], **run)
    subprocess.run(["git", "add", "-A"], **run)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "data"], **run)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.decode().strip()
    return root / ".git", commit


def _build(tmp_path: Path, name: str, files: dict[str, bytes]) -> tuple[dict, Path]:
    git_dir, commit = _git_repo(tmp_path / "repo", files)
    dataset = suite_datasets.SUITE[name]
    dataset = suite_datasets.SuiteDataset(**{**dataset.__dict__, "commit": commit})
    info = suite_datasets.build(dataset, git_dir, tmp_path / "out")
    return info, tmp_path / "out" / name


def _documents(rows):
    return {r["document"] for r in rows}


def test_rhetorical_roles_converter_splits_by_judgment(tmp_path):
    roles = list(suite_datasets.RHETORICAL_ROLES)
    files = {
        f"data/text/doc_{d}.txt": "\n".join(
            f"sentence number {i} of judgment {d}\t{roles[i % len(roles)]}" for i in range(10)
        ).encode()
        + b"\nshort\tFacts\n"
        for d in range(8)
    }
    files["LICENSE"] = b"MIT License\n"
    info, folder = _build(tmp_path, "indian_rhetorical_roles", files)
    rows = suite_datasets.load("indian_rhetorical_roles", suite_dir=folder.parent)
    assert len(_documents(rows["test"])) == 2 and len(_documents(rows["train"])) == 6  # a quarter, by rank
    assert not _documents(rows["train"]) & _documents(rows["test"])
    assert {r["label"] for r in rows["train"]} <= set(suite_datasets.RHETORICAL_ROLES.values())
    assert info["train_rows"] + info["test_rows"] == 80  # the 2-word sentences dropped
    assert (folder / "LICENSE").read_text() == "MIT License\n"
    provenance = (folder / "PROVENANCE.md").read_text()
    assert "Law-AI/semantic-segmentation" in provenance and "MIT" in provenance
    first = (folder / "train.csv.gz").read_bytes()
    _build(tmp_path / "again", "indian_rhetorical_roles", files)
    assert (tmp_path / "again" / "out" / "indian_rhetorical_roles" / "train.csv.gz").read_bytes() == first


def test_unfair_tos_de_converter_takes_category_drops_multi_and_countrym(tmp_path):
    files = {
        "corpus/lists/LIST_TRAIN_0.txt": b"A.txt\nB.txt\n",
        "corpus/lists/LIST_TEST_0.txt": b"C.txt\n",
        "LICENSE.txt": b"CC BY 4.0\n",
    }
    for name in "ABC":
        files[f"corpus/sentences/de/original/{name}.txt"] = (
            "Wir können diese Bedingungen jederzeit ändern.\nDas Recht von Irland gilt hier.\n"
            "Zwei Kategorien in einem Satz hier.\nEin ganz normaler Satz hier.\n"
        ).encode()
        files[f"corpus/tags/de/original/{name}.txt"] = b"ch2\nlaw1 countrym\nj3 law2\n\n"
    _, folder = _build(tmp_path, "unfair_tos_de", files)
    rows = suite_datasets.load("unfair_tos_de", suite_dir=folder.parent)
    assert [r["label"] for r in rows["test"]] == ["unilateral_change", "choice_of_law", "none"]
    assert _documents(rows["train"]) == {"A", "B"} and _documents(rows["test"]) == {"C"}
    assert "ändern" in rows["test"][0]["text"]


def test_overruling_converter_dedups_and_splits_by_row(tmp_path):
    lines = ["label\ttext"] + [
        f"{'Yes' if i % 2 else 'No'}\tthe court decides case number {i} today" for i in range(40)
    ]
    lines.append("No\tthe court decides case number 0 today")  # a duplicate text
    _, folder = _build(tmp_path, "overruling", {"tasks/overruling/test.tsv": "\n".join(lines).encode()})
    rows = suite_datasets.load("overruling", suite_dir=folder.parent)
    texts = [r["text"] for split in rows.values() for r in split]
    assert len(texts) == len(set(texts)) == 40
    assert {r["label"] for r in rows["train"]} == {"overruling", "not_overruling"}
    assert "CC By 4.0" in (folder / "LICENSE").read_text()
    with gzip.open(folder / "train.csv.gz", "rt") as handle:
        assert handle.readline().strip() == "text,label"


def test_statutory_interpretation_converter_splits_by_term_and_is_not_committed(tmp_path):
    files = {}
    values = list(suite_datasets.STATUTORY_VALUES)
    for t in range(8):
        sentences = {
            f"s{i}": {"case_id": f"case{i % 3}", "text": f"the term {t} means thing {i} here", "label": values[i % 4]}
            for i in range(6)
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"term_{t}-sentence.json", json.dumps(sentences))
        files[f"term_{t}.zip"] = buffer.getvalue()
    _, folder = _build(tmp_path, "statutory_interpretation", files)
    assert (folder / "train.csv").is_file() and not (folder / "train.csv.gz").exists()
    rows = suite_datasets.load("statutory_interpretation", suite_dir=folder.parent)
    assert len(_documents(rows["test"])) == 2 and not _documents(rows["train"]) & _documents(rows["test"])


def test_cap_rows_keeps_whole_documents_and_is_deterministic():
    rows = [{"text": f"t{i}", "label": "a", "document": f"d{i // 10}"} for i in range(100)]
    capped = suite_datasets.cap_rows(rows, limit=35)
    assert len(capped) == 30 and all(sum(r["document"] == d for r in capped) == 10 for d in _documents(capped))
    assert capped == suite_datasets.cap_rows(list(rows), limit=35)
    assert suite_datasets.cap_rows(rows, limit=1000) == rows


@pytest.mark.parametrize("name", [n for n, d in suite_datasets.SUITE.items() if d.committed])
def test_committed_suite_datasets_read_as_the_suite_reads_them(name):
    rows = suite_datasets.load(name)
    folder = suite_datasets.dataset_dir(name)
    assert (folder / "LICENSE").is_file() and (folder / "PROVENANCE.md").is_file()
    train_labels = {r["label"] for r in rows["train"]}
    assert len(rows["train"]) >= 1000 and len(rows["test"]) >= 300 and len(train_labels) >= 2
    assert len(rows["train"]) <= suite_datasets.MAX_TRAIN_ROWS
    assert {r["label"] for r in rows["test"]} <= train_labels
    assert all(r["text"] and "\n" not in r["text"] for split in rows.values() for r in split)
    if any(r.get("document") for r in rows["train"]):
        assert not _documents(rows["train"]) & _documents(rows["test"])


def test_committed_datasets_stay_small():
    total = sum(p.stat().st_size for p in suite_datasets.SUITE_DATASETS_DIR.rglob("*.gz"))
    assert total < 20 * 2**20


# --------------------------------------------------------------------------------------------
# The quality benchmark on the suite
# --------------------------------------------------------------------------------------------


def _toy_suite(root: Path) -> None:
    for n, name in enumerate(suite_datasets.SUITE_NAMES):
        rows = [
            {"text": f"{word} clause number {i} of kind {word}", "label": word, "document": f"doc{i % 4}"}
            for i in range(12)
            for word in ("alpha", "beta")
        ]
        columns = ["text", "label", "document"] if n % 2 else ["text", "label"]
        suite_datasets.write_rows(root / name / "train.csv.gz", rows[:18], columns)
        suite_datasets.write_rows(root / name / "test.csv", rows[18:], columns)


def test_quality_suite_runs_every_dataset_baseline_only(tmp_path):
    _toy_suite(tmp_path / "datasets")
    result = CliRunner().invoke(
        quality.app,
        ["--suite", "--skip-pipeline", "--datasets-dir", str(tmp_path / "datasets"), "--out", str(tmp_path / "o")],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    records = json.loads((tmp_path / "o" / quality.RESULTS_JSON).read_text())["datasets"]
    assert set(records) == set(suite_datasets.SUITE_NAMES)
    assert all(r["baseline"]["train_rows"] == 18 and r["test_rows"] == 6 for r in records.values())


def test_quality_refuses_a_bad_eval_layout_and_a_missing_dataset(tmp_path):
    _toy_suite(tmp_path / "datasets")
    args = ["--datasets-dir", str(tmp_path / "datasets"), "--skip-pipeline", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(quality.app, ["-d", "overruling", "--eval-layout", "sideways", *args], env=ENV)
    assert result.exit_code == 2 and "--eval-layout" in result.output
    result = CliRunner().invoke(quality.app, ["-d", "nope", *args], env=ENV)
    assert result.exit_code == 2 and "no dataset folder" in result.output


def test_data_root_layouts(tmp_path):
    _toy_suite(tmp_path / "datasets")
    folder = tmp_path / "datasets" / suite_datasets.SUITE_NAMES[1]  # gzipped train with documents
    root = quality.prepare_data_root(tmp_path / "w1", "ds", folder, layout="folders")
    train = list(csv.DictReader((root / "span-0" / "train" / "train.csv").open()))
    assert len(train) == 18 and train[0]["document"] == "doc0"
    assert (root / "span-0" / "eval" / "test.csv").is_symlink()  # plain CSVs are never copied
    root = quality.prepare_data_root(tmp_path / "w2", "ds", folder, layout="hash")
    assert sorted(p.name for p in (root / "span-0").iterdir()) == ["train.csv"]
    assert (root / "span-0" / "train.csv").read_text().splitlines()[0] == "text,label"  # no document feature
    assert quality.resolve_layout("hash") == "hash"
    assert quality.resolve_layout("auto") in ("hash", "folders")


# --------------------------------------------------------------------------------------------
# The recipe study's pieces
# --------------------------------------------------------------------------------------------


def test_validation_mask_holds_out_whole_documents_and_keeps_rare_labels():
    rows = [{"text": f"t{i}", "label": "a" if i else "rare", "document": f"d{i % 10}"} for i in range(100)]
    mask = recipe_study.validation_mask(rows)
    held = {r["document"] for r, m in zip(rows, mask, strict=True) if m}
    assert len(held) == 2 and all(
        m == (r["document"] in held) for r, m in zip(rows, mask, strict=True) if r["label"] == "a"
    )
    assert not mask[0]  # the only `rare` row stays on the fitting side


def test_log_count_ratio_favours_the_class_features():
    from scipy import sparse

    x = sparse.csr_matrix(np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float))
    r = recipe_study.log_count_ratio(x, np.array([True, True, False, False]))
    assert r[0] > 0 > r[1]


def test_temperature_fit_sharpens_underconfident_margins():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 500)
    margins = rng.normal(0, 0.1, (500, 3))
    margins[np.arange(500), y] += 0.5  # right but timid
    assert recipe_study.fit_temperature(margins, y) < 0.5


def test_study_end_to_end_on_a_toy_dataset():
    words = ("alpha", "beta", "gamma")
    rows = {
        split: [
            {"text": f"{w} term {i} clause {w}{i % 3} extra", "label": w, "document": f"{split}{i % 6}"}
            for i in range(n)
            for w in words
        ]
        for split, n in (("train", 30), ("test", 6))
    }
    data = recipe_study.run_member_scores("toy", rows, echo=lambda _: None)
    result = recipe_study.evaluate("toy", data)
    assert result["baseline"]["test"]["accuracy"] == 1.0 and result["baseline"]["gain"]["macro_f1"] == 0.0
    assert {"current_search", "search:all_families", "recommended", "recommended+choose"} <= set(result)
    assert all(set(rec["members"]) <= set(data["members"]) for rec in result.values())


def test_suite_verdict_uses_the_same_rows_baseline_and_the_worst_drop():
    def rec(layout, model, base, wall=100.0):
        m = {"metrics": {"macro_f1": model[0], "accuracy": model[1]}}
        b = {"metrics": {"macro_f1": base[0], "accuracy": base[1]}}
        extra = {"baseline": b} if layout == "folders" else {"baseline": {"metrics": {}}, "baseline_pipeline_split": b}
        return {"eval_layout": layout, "model": m, "pipeline": {"wall_seconds": wall}, **extra}

    good = {"a": rec("folders", (0.80, 0.90), (0.75, 0.90)), "b": rec("hash", (0.62, 0.80), (0.60, 0.80))}
    verdict = quality.suite_verdict(good)
    assert verdict["mean_macro_f1_gain"] == pytest.approx(0.035) and verdict["meets_target"]
    worse = {**good, "c": rec("hash", (0.70, 0.893), (0.65, 0.90))}  # accuracy 0.007 below
    assert not quality.suite_verdict(worse)["meets_target"]
    slow = {**good, "d": rec("folders", (0.9, 0.9), (0.8, 0.9), wall=700.0)}
    assert not quality.suite_verdict(slow)["meets_target"]
    assert quality.suite_verdict({"x": {"baseline": {}, "model": None}}) is None
    assert "| **mean** | **+0.035** |" in "\n".join(quality.suite_table(good))


def test_pick_prefers_the_safest_option_with_enough_mean_gain():
    gains = {
        "bold": [(0.10, 0.0), (-0.02, -0.01)],  # mean 0.04, worst -0.02
        "safe": [(0.04, 0.001), (0.03, 0.0)],  # mean 0.035, worst 0
        "timid": [(0.001, 0.01), (0.001, 0.01)],  # safest, but mean below 0.03
    }
    assert recipe_study.pick(gains) == "safe"
    assert len(recipe_study.combo_space()) == len(set(recipe_study.combo_space()))
