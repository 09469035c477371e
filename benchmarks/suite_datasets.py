"""The quality suite: six public legal text-classification datasets, their converters and readers.

    python -m benchmarks.suite_datasets build --mirror /work/.mirror      # (re)build the converted CSVs
    python -m benchmarks.suite_datasets list                              # what is there, rows, classes
    python -m benchmarks.suite_datasets check-schemas                     # what a TFDV-drafted schema makes of each

Every dataset is `train.csv` / `test.csv` with columns `text,label` and, where the source knows the
document a row comes from, `document` (rows of one document never straddle the split). Two live in
`../shared/datasets/` and are read in place (never copied). The other four were fetched from public
GitHub repositories; one small function per dataset converts them from a local git snapshot of
the repository (the `fetch` tool's mirror, `<mirror>/<owner>+<name>/repo`, or any clone holding the
recorded commit), reading the files *at the recorded commit*, so the output is the same bytes every
time. Openly licensed ones are committed gzipped under `benchmarks/datasets/<name>/` with the
upstream license and a generated PROVENANCE.md; the one whose terms do not say it may be
redistributed (statutory_interpretation) is only rebuilt there (git-ignored).

Sizes are capped so that one pipeline run stays within the 10-minute budget on 2 cores:
at most `MAX_TRAIN_ROWS` training rows, subsampled deterministically by a hash of the row (whole
documents are kept or dropped together when there are documents). The converters say which.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import typer

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_datasets_dir() -> Path:
    """`../shared/datasets` of the checkout (or of the folder above a worktree); LEXFLOW_SHARED_DATASETS overrides."""
    if os.environ.get("LEXFLOW_SHARED_DATASETS"):
        return Path(os.environ["LEXFLOW_SHARED_DATASETS"])
    candidates = [REPO_ROOT.parent / "shared" / "datasets", REPO_ROOT.parents[1] / "shared" / "datasets"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED_DATASETS_DIR = _shared_datasets_dir()
SUITE_DATASETS_DIR = REPO_ROOT / "benchmarks" / "datasets"
DEFAULT_MIRROR = Path("/work/.mirror")
MAX_TRAIN_ROWS = 15_000
MIN_WORDS = 3
SPLITS = ("train", "test")

Row = dict[str, str]


@dataclass(frozen=True)
class SuiteDataset:
    """One benchmark dataset: where it comes from, under what license, how it is split."""

    name: str
    title: str
    task: str
    repo: str  # owner/name on GitHub; "" for the shared datasets (see their PROVENANCE.md)
    commit: str
    license: str
    paths: str  # what the converter reads, at `commit`
    split: str  # how the test split is made
    committed: bool  # converted CSVs (gzipped) are in the repository
    convert: Optional[Callable[[GitSnapshot], dict[str, list[Row]]]] = None
    license_path: Optional[str] = None  # upstream license file to copy beside the data
    license_note: str = ""
    negative_label: Optional[str] = None  # the "nothing to flag" class, for an extra macro-F1
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def shared(self) -> bool:
        return self.convert is None


class GitSnapshot:
    """Files of a git repository at one commit, read with `git show` (no work tree needed)."""

    def __init__(self, git_dir: Path, commit: str):
        self.git_dir, self.commit = Path(git_dir), commit

    def _git(self, *args: str) -> bytes:
        return subprocess.run(["git", f"--git-dir={self.git_dir}", *args], check=True, capture_output=True).stdout

    def read(self, path: str) -> bytes:
        return self._git("show", f"{self.commit}:{path}")

    def text(self, path: str) -> str:
        return self.read(path).decode("utf-8")

    def list(self, folder: str) -> list[str]:
        """Files directly in `folder` (paths relative to the repository root), sorted."""
        out = self._git("ls-tree", "--name-only", f"{self.commit}:{folder.rstrip('/')}").decode("utf-8")
        return sorted(f"{folder.rstrip('/')}/{name}" for name in out.splitlines() if name)

    def sizes(self, folder: str) -> dict[str, int]:
        """path -> size in bytes of the blobs directly in `folder`."""
        out = self._git("ls-tree", "-l", f"{self.commit}:{folder.rstrip('/')}").decode("utf-8")
        sizes = {}
        for line in out.splitlines():
            meta, name = line.split("\t", 1)
            size = meta.split()[3]
            if size.isdigit():
                sizes[f"{folder.strip('/')}/{name}".lstrip("/")] = int(size)
        return sizes


# --------------------------------------------------------------------------------------------
# Shared helpers of the converters
# --------------------------------------------------------------------------------------------


def clean(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces: one record per CSV line."""
    return re.sub(r"\s+", " ", text).strip()


def stable_hash(value: str) -> int:
    return int(hashlib.sha1(value.encode("utf-8")).hexdigest(), 16)


def in_test(key: str, percent: int) -> bool:
    """The deterministic test-side rule: sha1(key) mod 10000 < percent * 100 (as cuad_clauses')."""
    return stable_hash(key) % 10_000 < percent * 100


def test_keys(keys: Iterable[str], fraction: float = 0.25) -> set[str]:
    """The test side of a split by document: the round(n * fraction) keys first in sha1 order.

    Rank, not a hash threshold: with 50 judgments a threshold gives anything from 8 to 18 test
    documents; the rank gives exactly the fraction, and the same documents every time."""
    ordered = sorted(set(keys), key=stable_hash)
    return set(ordered[: max(1, round(len(ordered) * fraction))])


def cap_rows(rows: list[Row], limit: int = MAX_TRAIN_ROWS) -> list[Row]:
    """At most `limit` rows, whole documents kept together: documents (or rows, without a document
    column) in order of their hash, until the next one would pass the limit. Same input, same rows."""
    if len(rows) <= limit:
        return rows
    groups: dict[str, list[Row]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.get("document") or f"{i}\x1f{row['text']}", []).append(row)
    kept: list[Row] = []
    for key in sorted(groups, key=stable_hash):
        if len(kept) + len(groups[key]) > limit:
            continue
        kept += groups[key]
    keep_ids = {id(row) for row in kept}
    return [row for row in rows if id(row) in keep_ids]  # original order


def long_enough(text: str, words: int = MIN_WORDS) -> bool:
    return len(text.split()) >= words


# --------------------------------------------------------------------------------------------
# The converters (one per dataset)
# --------------------------------------------------------------------------------------------

RHETORICAL_ROLES = {
    "Facts": "facts",
    "Argument": "argument",
    "Statute": "statute",
    "Precedent": "precedent",
    "Ratio of the decision": "ratio_decidendi",
    "Ruling by Lower Court": "ruling_lower_court",
    "Ruling by Present Court": "ruling_present_court",
}


def convert_indian_rhetorical_roles(repo: GitSnapshot) -> dict[str, list[Row]]:
    """Law-AI/semantic-segmentation `data/text/<judgment>.txt`: one `sentence<TAB>role` per line.

    Sentences with fewer than 3 words are dropped; labels are spelled as identifiers; a judgment
    goes to test when it is among the first quarter of the 50 in sha1 order (`test_keys`)."""
    splits: dict[str, list[Row]] = {s: [] for s in SPLITS}
    paths = repo.list("data/text")
    test = test_keys(Path(p).stem for p in paths)
    for path in paths:
        document = Path(path).stem
        side = "test" if document in test else "train"
        for line in repo.text(path).splitlines():
            if "\t" not in line:
                continue
            text, role = line.rsplit("\t", 1)
            text = clean(text)
            if role.strip() not in RHETORICAL_ROLES:
                raise ValueError(f"{path}: unknown role {role!r}")
            if long_enough(text):
                splits[side].append({"text": text, "label": RHETORICAL_ROLES[role.strip()], "document": document})
    return splits


def convert_overruling(repo: GitSnapshot) -> dict[str, list[Row]]:
    """LegalBench `tasks/overruling/test.tsv` (2,400 case-law sentences, label Yes/No).

    The sentences carry no case id, so the test split is by row: sha1(text) mod 10000 < 2500.
    Exact duplicate texts are kept once (first label)."""
    rows = list(csv.DictReader(io.StringIO(repo.text("tasks/overruling/test.tsv")), delimiter="\t"))
    splits: dict[str, list[Row]] = {s: [] for s in SPLITS}
    seen = set()
    for row in rows:
        text = clean(row["text"])
        if text in seen or not long_enough(text):
            continue
        seen.add(text)
        label = {"Yes": "overruling", "No": "not_overruling"}[row["label"].strip()]
        splits["test" if in_test(text, 25) else "train"].append({"text": text, "label": label})
    return splits


UNFAIR_CATEGORIES = {
    "a": "arbitration",
    "ch": "unilateral_change",
    "cr": "content_removal",
    "j": "jurisdiction",
    "law": "choice_of_law",
    "ltd": "limitation_of_liability",
    "ter": "unilateral_termination",
    "use": "contract_by_using",
    "pinc": "privacy_included",
}


def convert_unfair_tos_de(repo: GitSnapshot) -> dict[str, list[Row]]:
    """German originals of the 50 ToS of nlp-unibo/Multilingual-Unfair-Clause-Detection, converted
    as `../shared/datasets/unfair_tos_en` was (same rules, same fold): label = the tag's category
    (its fairness level 1-3 dropped), `none` when untagged, `countrym` ignored; sentences with two
    categories or fewer than 3 words dropped; split = the authors' fold 0 (40 train / 10 test ToS)."""
    lists = {s: repo.text(f"corpus/lists/LIST_{s.upper()}_0.txt").split() for s in SPLITS}
    splits: dict[str, list[Row]] = {s: [] for s in SPLITS}
    for side, names in lists.items():
        for name in names:
            sentences = repo.text(f"corpus/sentences/de/original/{name}").splitlines()
            tags = repo.text(f"corpus/tags/de/original/{name}").splitlines()
            if len(sentences) != len(tags):
                raise ValueError(f"{name}: {len(sentences)} sentences but {len(tags)} tag lines")
            for sentence, tag_line in zip(sentences, tags, strict=True):
                categories = {re.sub(r"\d+$", "", t) for t in tag_line.split()} - {"countrym"}
                text = clean(sentence)
                if len(categories) > 1 or not long_enough(text):
                    continue
                label = UNFAIR_CATEGORIES[categories.pop()] if categories else "none"
                splits[side].append({"text": text, "label": label, "document": Path(name).stem})
    return splits


STATUTORY_VALUES = {
    "high value": "high_value",
    "certain value": "certain_value",
    "potential value": "potential_value",
    "no value": "no_value",
}


def convert_statutory_interpretation(repo: GitSnapshot) -> dict[str, list[Row]]:
    """jsavelka/statutory_interpretation: `<term>.zip` holds `<term>-sentence.json` (sentence id ->
    case_id, text, label). Only the zips under 4 MiB are in the snapshot (24 of the 42 terms).

    document = the term (the sentences retrieved for one statutory phrase, from many cases, are one
    result list); the test split is by term (a quarter of them, `test_keys`): the test sentences
    interpret statutory phrases the model never saw, as a new query would be. A validation split by
    document then holds out terms too, as it should."""
    splits: dict[str, list[Row]] = {s: [] for s in SPLITS}
    paths = sorted(p for p in repo.sizes("") if p.endswith(".zip"))
    test = test_keys(Path(p).stem for p in paths)
    for path in paths:
        term = Path(path).stem
        with zipfile.ZipFile(io.BytesIO(repo.read(path))) as archive:
            name = next(n for n in archive.namelist() if n.endswith("-sentence.json"))
            sentences = json.loads(archive.read(name).decode("utf-8"))
        side = "test" if term in test else "train"
        for key in sorted(sentences):
            item = sentences[key]
            text = clean(item["text"])
            if long_enough(text):
                splits[side].append({"text": text, "label": STATUTORY_VALUES[item["label"]], "document": term})
    return splits


# --------------------------------------------------------------------------------------------
# The suite
# --------------------------------------------------------------------------------------------

SUITE: dict[str, SuiteDataset] = {
    d.name: d
    for d in (
        SuiteDataset(
            name="cuad_clauses",
            title="CUAD v1 contract-clause types",
            task="contract clause type (37 classes, long tail)",
            repo="",
            commit="",
            license="CC BY 4.0",
            paths="../shared/datasets/cuad_clauses (read in place; see its PROVENANCE.md)",
            split="by contract (the shared dataset's split); no document column",
            committed=False,
        ),
        SuiteDataset(
            name="unfair_tos_en",
            title="Unfair clauses in online terms of service (English)",
            task="ToS clause category (10 classes, ~91 % `none`)",
            repo="",
            commit="",
            license="CC BY 4.0",
            paths="../shared/datasets/unfair_tos_en (read in place; see its PROVENANCE.md)",
            split="by ToS (the authors' fold 0); no document column",
            committed=False,
            negative_label="none",
        ),
        SuiteDataset(
            name="indian_rhetorical_roles",
            title="Rhetorical roles of sentences in Indian Supreme Court judgments (Bhattacharya et al., JURIX 2019)",
            task="rhetorical role of a judgment sentence (7 classes)",
            repo="Law-AI/semantic-segmentation",
            commit="16d16b2c9bad824b527d4ffa3e94e029e282b133",
            license="MIT",
            paths="data/text/<judgment>.txt (50 judgments, `sentence<TAB>role`)",
            split="by judgment: the first 12 of the 50 judgments in sha1 order -> test",
            committed=True,
            convert=convert_indian_rhetorical_roles,
            license_path="LICENSE",
        ),
        SuiteDataset(
            name="overruling",
            title="Overruling sentences (Zheng et al., ICAIL 2021, as packaged by LegalBench)",
            task="does a case-law sentence overrule a precedent (binary)",
            repo="HazyResearch/legalbench",
            commit="49bf0a88b2f9cd6fffc0d73ee27a92e971cc0bcf",
            license="CC BY 4.0",
            paths="tasks/overruling/test.tsv (all 2,400 labelled rows; later commits keep only a few-shot train.tsv)",
            split="by row: sha1(text) mod 10000 < 2500 -> test (the sentences carry no case id)",
            committed=True,
            convert=convert_overruling,
            license_note="tasks/overruling/README.md at that commit: **License**: CC By 4.0 (no license file in the "
            "repository; the CC BY 4.0 deed applies: https://creativecommons.org/licenses/by/4.0/).",
            negative_label="not_overruling",
        ),
        SuiteDataset(
            name="unfair_tos_de",
            title="Unfair clauses in online terms of service (German originals; Galassi et al., AI & Law 2024)",
            task="ToS clause category in German (10 classes, mostly `none`)",
            repo="nlp-unibo/Multilingual-Unfair-Clause-Detection",
            commit="04d9878bfca0e1e17e7dd1cf7bd17fc4ce5fcd12",
            license="CC BY 4.0",
            paths="corpus/{sentences,tags}/de/original/<ToS>.txt, corpus/lists/LIST_{TRAIN,TEST}_0.txt",
            split="by ToS: the authors' fold 0 (40 train / 10 test)",
            committed=True,
            convert=convert_unfair_tos_de,
            license_path="LICENSE.txt",
            negative_label="none",
            notes=(
                (
                    "Same ToS services as unfair_tos_en, in their German versions: another language, not another "
                    "label set; its scores move with unfair_tos_en's."
                ),
            ),
        ),
        SuiteDataset(
            name="statutory_interpretation",
            title="Sentences for interpreting statutory terms (Savelka & Ashley, EMNLP Findings 2021)",
            task="value of a case-law sentence for interpreting a statutory phrase (4 classes)",
            repo="jsavelka/statutory_interpretation",
            commit="9db9ba2aa162457dc36f2ef80e657e53618f402f",
            license="attribution requested (README 'Terms of Use'); no license file; sentences from the Caselaw "
            "Access Project",
            paths="<term>.zip -> <term>-sentence.json, the 24 zips present in the snapshot (files under 4 MiB)",
            split="by statutory term: the first 6 of the 24 terms in sha1 order -> test (new phrases at test time)",
            committed=False,
            convert=convert_statutory_interpretation,
            license_note="The README asks for two attributions (Savelka & Ashley 2021; Caselaw Access Project, "
            "Harvard, 2018) and grants no explicit redistribution right, so the converted files are rebuilt, "
            "not committed.",
        ),
    )
}
SUITE_NAMES = tuple(SUITE)


def dataset_dir(name: str, shared_dir: Path = SHARED_DATASETS_DIR, suite_dir: Path = SUITE_DATASETS_DIR) -> Path:
    return (shared_dir if SUITE[name].shared else suite_dir) / name


def split_path(folder: Path, split: str) -> Path:
    """`<split>.csv.gz` (committed form) or `<split>.csv`; FileNotFoundError names what is missing."""
    for candidate in (folder / f"{split}.csv.gz", folder / f"{split}.csv"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder / split}.csv[.gz] does not exist")


def read_rows(path: Path) -> list[Row]:
    """A `text,label[,document]` CSV (plain or gzipped) -> rows; a missing column is an error."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: no column {', '.join(sorted(missing))}")
        return [{k: v for k, v in row.items() if k in ("text", "label", "document")} for row in reader]


def load(
    name: str, shared_dir: Path = SHARED_DATASETS_DIR, suite_dir: Path = SUITE_DATASETS_DIR
) -> dict[str, list[Row]]:
    """{train, test} rows of a suite dataset (the shared ones read in place)."""
    folder = dataset_dir(name, shared_dir, suite_dir)
    return {split: read_rows(split_path(folder, split)) for split in SPLITS}


def write_rows(path: Path, rows: Sequence[Row], columns: Sequence[str]) -> None:
    """CSV with a fixed header (QUOTE_MINIMAL); gzipped (mtime 0, so rebuilding gives the same bytes)
    when the name ends in .gz."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def summary(rows: dict[str, list[Row]]) -> dict[str, object]:
    train, test = rows["train"], rows["test"]
    docs = {s: len({r["document"] for r in rows[s] if r.get("document")}) for s in SPLITS}
    train_docs = {r["document"] for r in train if r.get("document")}
    return {
        "train_rows": len(train),
        "test_rows": len(test),
        "classes": len({r["label"] for r in train}),
        "train_documents": docs["train"],
        "test_documents": docs["test"],
        "documents_in_both": len(train_docs & {r["document"] for r in test if r.get("document")}),
        "test_labels_unseen_in_train": sorted({r["label"] for r in test} - {r["label"] for r in train}),
        "train_counts": dict(Counter(r["label"] for r in train).most_common()),
        "test_counts": dict(Counter(r["label"] for r in test).most_common()),
        "mean_words": round(sum(len(r["text"].split()) for r in train) / max(len(train), 1), 1),
    }


def build(dataset: SuiteDataset, git_dir: Path, out_dir: Path = SUITE_DATASETS_DIR) -> dict[str, object]:
    """Convert one dataset from its snapshot into `<out>/<name>/`: {train,test}.csv(.gz), LICENSE,
    PROVENANCE.md. Returns the summary written into PROVENANCE.md."""
    if dataset.convert is None:
        raise ValueError(f"{dataset.name} is a shared dataset: nothing to build")
    snapshot = GitSnapshot(git_dir, dataset.commit)
    rows = dataset.convert(snapshot)
    full_train = len(rows["train"])
    rows["train"] = cap_rows(rows["train"])
    unseen = {r["label"] for r in rows["test"]} - {r["label"] for r in rows["train"]}
    rows["test"] = [r for r in rows["test"] if r["label"] not in unseen]  # a class the model cannot know
    columns = ["text", "label"] + (["document"] if any(r.get("document") for r in rows["train"]) else [])
    folder = out_dir / dataset.name
    suffix = ".csv.gz" if dataset.committed else ".csv"
    for split in SPLITS:
        write_rows(folder / f"{split}{suffix}", rows[split], columns)
    info = summary(rows)
    info.update(converted_train_rows=full_train, test_rows_dropped_unseen_label=sorted(unseen))
    if dataset.license_path:
        (folder / "LICENSE").write_bytes(snapshot.read(dataset.license_path))
    elif dataset.committed:
        (folder / "LICENSE").write_text(dataset.license_note + "\n", encoding="utf-8")
    (folder / "PROVENANCE.md").write_text(provenance_markdown(dataset, info), encoding="utf-8")
    return info


def provenance_markdown(dataset: SuiteDataset, info: dict[str, object]) -> str:
    capped = info["converted_train_rows"] != info["train_rows"]
    lines = [
        f"# {dataset.name} — {dataset.title}",
        "",
        (
            "Generated by `python -m benchmarks.suite_datasets build` (benchmarks/suite_datasets.py, "
            f"`convert_{dataset.name}`); do not edit by hand."
        ),
        "",
        "| field | value |",
        "|---|---|",
        f"| task | {dataset.task} |",
        f"| repository | GitHub `{dataset.repo}` |",
        f"| commit | `{dataset.commit}` |",
        f"| files read | {dataset.paths} |",
        f"| license | {dataset.license} |",
        f"| split | {dataset.split} |",
        f"| committed | {'yes, gzipped, with its LICENSE' if dataset.committed else 'no: rebuilt by the script'} |",
        "",
        "## Result",
        f"- train: {info['train_rows']} rows"
        + (f" (capped from {info['converted_train_rows']}: whole documents by hash order)" if capped else "")
        + f", {info['train_documents']} documents; test: {info['test_rows']} rows, {info['test_documents']} documents; "
        f"documents on both sides: {info['documents_in_both']}",
        f"- {info['classes']} classes; mean {info['mean_words']} words per train row",
        f"- train counts: {json.dumps(info['train_counts'])}",
        f"- test counts: {json.dumps(info['test_counts'])}",
    ]
    if info["test_rows_dropped_unseen_label"]:
        lines.append(f"- test rows dropped (label absent from train): {info['test_rows_dropped_unseen_label']}")
    if dataset.license_note:
        lines += ["", "## License", dataset.license_note]
    for note in dataset.notes:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def mirror_git_dir(mirror: Path, repo: str) -> Path:
    """`<mirror>/<owner>+<name>/repo` (the fetch tool's layout), else `<mirror>/<name>` (a clone)."""
    owner, name = repo.split("/")
    for candidate in (mirror / f"{owner}+{name}" / "repo", mirror / name / ".git", mirror / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no snapshot of {repo} under {mirror} (fetch github:{repo} first)")


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help=__doc__.split("\n\n")[0])


@app.command("build")
def build_command(
    mirror: Path = typer.Option(DEFAULT_MIRROR, help="Folder of git snapshots (<owner>+<name>/repo) or clones."),
    dataset: list[str] = typer.Option([], "--dataset", "-d", help="Only these (default: every converted one)."),
    out: Path = typer.Option(SUITE_DATASETS_DIR, help="Where <name>/ folders go."),
) -> None:
    """Convert the fetched datasets into <out>/<name>/{train,test}.csv[.gz] with LICENSE and PROVENANCE.md."""
    names = dataset or [n for n in SUITE_NAMES if not SUITE[n].shared]
    for name in names:
        if name not in SUITE or SUITE[name].shared:
            typer.echo(f"error: {name!r} is not a converted suite dataset ({', '.join(SUITE_NAMES)})", err=True)
            raise typer.Exit(2)
        try:
            info = build(SUITE[name], mirror_git_dir(mirror, SUITE[name].repo), out)
        except (FileNotFoundError, subprocess.CalledProcessError) as exc:
            typer.echo(f"error: {name}: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(
            f"{out / name}: {info['train_rows']} train / {info['test_rows']} test rows, {info['classes']} classes"
        )


@app.command("list")
def list_command() -> None:
    """Every suite dataset: where it is read from, rows and classes (or what is missing)."""
    for name in SUITE_NAMES:
        try:
            info = summary(load(name))
        except (FileNotFoundError, ValueError) as exc:
            typer.echo(f"{name:26s} missing: {exc}")
            continue
        typer.echo(
            f"{name:26s} {info['train_rows']:6d} train {info['test_rows']:6d} test {info['classes']:3d} classes "
            f"({dataset_dir(name)})"
        )


@app.command("check-schemas")
def check_schemas_command(
    dataset: list[str] = typer.Option([], "--dataset", "-d", help="Only these (default: all)."),
) -> None:
    """What a TFDV-drafted schema makes of each dataset: infer it on train, validate test against it.

    The pipeline drafts a schema this way for a dataset without a curated one; an anomaly here is
    one its ExampleValidator would raise on the eval data."""
    import core.tf_env  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

    import pandas as pd
    import tensorflow_data_validation as tfdv

    for name in dataset or SUITE_NAMES:
        stats = {}
        for split in SPLITS:
            rows = load(name)[split]
            columns = ["text", "label"] + (["document"] if any(r.get("document") for r in rows) else [])
            frame = {c: [r.get(c, "") for r in rows] for c in columns}
            stats[split] = tfdv.generate_statistics_from_dataframe(pd.DataFrame(frame))
        schema = tfdv.infer_schema(stats["train"])
        anomalies = tfdv.validate_statistics(stats["test"], schema).anomaly_info
        found = "; ".join(f"{k}: {v.short_description}" for k, v in sorted(anomalies.items())) or "none"
        typer.echo(f"{name:26s} features {[f.name for f in schema.feature]}; test anomalies: {found}")


if __name__ == "__main__":
    app()
