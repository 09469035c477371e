"""Pipeline cost benchmark: wall time, per-component time and peak memory of the local pipeline.

    python -m benchmarks.pipeline_cost [--scale 1 --scale 4 --scale 16] [--compare-beam-at 16] ...

For each scale k, `python -m datagen --rows k*3000` writes a demo-style corpus (same generator
and seed as data/demo, so the 12-label curated schema `schema/demo` applies) into a fresh data
root, and the REAL pipeline runs on it in a child process (`local_runner.py --config run.json`,
caching off), while this process samples the RSS of the child's whole process tree (Beam's
multi_processing workers included). Per-component times come from ML Metadata (each
execution's create and last-update timestamps, the same numbers as the run summary).

Extra runs:
- a cached re-run of the smallest scale (same pipeline root and MLMD, cache on): what a no-op
  retrain costs;
- `--compare-beam-at K`: scale K again with the other Beam direct running mode, because the
  config's default (in_memory) was chosen on demo-sized data.

Derived per run: rows per split (ExampleGen's label counts in MLMD), the Evaluator's seconds per
1,000 eval rows; over the scales: each component's growth exponent between consecutive scales
(log of the time ratio / log of the rows ratio: 1 = linear, above 1 = superlinear), and checks of
issue 25's targets (Evaluator <= 0.3 s per 1,000 eval rows from 16x, no component superlinear,
peak RSS of the process tree < 4 GiB). Load averages before and after each run are recorded: the
machine is shared.

The child is a separate process so the memory of one run does not inherit the previous one's
and a crash is contained. Results go to `<out>/pipeline_cost.json`, `.md` and `.png` (wall and
per-component seconds and peak RSS against rows, log-log).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

import typer

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
RESULTS_JSON = "pipeline_cost.json"
RESULTS_MD = "pipeline_cost.md"
RESULTS_PNG = "pipeline_cost.png"
# Issue 25's targets, checked in the report (never asserted in tests).
EVALUATOR_TARGET_S_PER_1K = 0.3
EVALUATOR_TARGET_FROM_SCALE = 16
RSS_TARGET_MIB = 4 * 1024
# Above this exponent a component counts as superlinear: small jitter around 1 is load noise.
SUPERLINEAR_EXPONENT = 1.1
# Components timed for growth only when they take at least this long at the largest scale.
MIN_GROWTH_SECONDS = 2.0
DEMO_ROWS = 3000  # data/demo/span-0/corpus.csv (`make demo-data`)
DEMO_SEED = 7
BEAM_MODES = ("in_memory", "multi_processing")
# Report order (a topological order of pipeline/pipeline.py); components not listed here
# (added to the pipeline later) are reported after them, in the order they ran.
COMPONENT_ORDER = (
    "ExampleGen",
    "StatisticsGen",
    "ImportSchemaGen",
    "ExampleValidator",
    "DataGate",
    "DriftCheck",
    "Transform",
    "ModelSearch",
    "Trainer",
    "ProductionBaseline",
    "Evaluator",
    "Pusher",
)

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Wall time and peak memory of the local lexflow pipeline at several data sizes (see BENCHMARKS.md).",
)


# --------------------------------------------------------------------------------------------
# Measuring a child process
# --------------------------------------------------------------------------------------------


@dataclass
class ProcessStats:
    wall_seconds: float
    returncode: int
    peak_tree_rss_mib: float  # max over samples of the summed RSS of the child and its descendants
    peak_process_rss_mib: float  # max RSS of any single process of the tree (kernel's ru_maxrss when larger)
    samples: int
    output_tail: str = ""


def _tree_rss(root: Any) -> tuple[int, int]:
    """(sum of RSS, largest RSS) in bytes over `root` and its live descendants."""
    import psutil

    total = largest = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for proc in procs:
        try:
            rss = proc.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


def run_measured(
    cmd: Sequence[str],
    log_path: Path,
    interval: float = 0.25,
    env: Optional[dict[str, str]] = None,
    on_line: Optional[Callable[[str], None]] = None,
) -> ProcessStats:
    """Run `cmd`, sampling the RSS of its process tree every `interval` s; output goes to `log_path`.

    Sampling misses peaks shorter than `interval`; ru_maxrss of the reaped children (the
    kernel's exact high-water mark, but per process, not summed) is folded into the largest-
    process figure as a cross-check.
    """
    import resource

    import psutil

    before_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT, env=env, bufsize=1
        )
        root = psutil.Process(proc.pid)
        peak_total = peak_single = samples = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_total, peak_single, samples
            while not stop.is_set():
                total, single = _tree_rss(root)
                peak_total, peak_single, samples = max(peak_total, total), max(peak_single, single), samples + 1
                stop.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            tail = ([*tail, line.rstrip("\n")])[-30:]
            if on_line:
                on_line(line.rstrip("\n"))
        returncode = proc.wait()
        stop.set()
        sampler.join()
    wall = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux; it is the max over all children reaped so far, so it only
    # says something about this run when it grew during it.
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after_children > before_children:
        peak_single = max(peak_single, after_children * 1024)
    mib = 1024**2
    return ProcessStats(wall, returncode, peak_total / mib, peak_single / mib, samples, "\n".join(tail))


# --------------------------------------------------------------------------------------------
# One pipeline run
# --------------------------------------------------------------------------------------------


@dataclass
class RunSpec:
    name: str  # e.g. "1x", "16x-multi_processing", "1x-cached"
    scale: int
    rows: int
    beam_mode: str
    cached: bool = False


@dataclass
class RunResult:
    name: str
    scale: int
    rows: int
    beam_mode: str
    cached: bool
    load_average_before: list[float]
    wall_seconds: float
    peak_tree_rss_mib: float
    peak_process_rss_mib: float
    returncode: int
    components: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {state, seconds}
    component_seconds_total: Optional[float] = None
    trainer_seconds: Optional[float] = None
    pipeline_to_trainer_ratio: Optional[float] = None
    error: Optional[str] = None
    load_average_after: list[float] = field(default_factory=list)
    split_rows: dict[str, int] = field(default_factory=dict)  # train / validation / eval rows
    evaluator_seconds_per_1k_eval_rows: Optional[float] = None


def generate_data(data_root: Path, rows: int, seed: int = DEMO_SEED) -> Path:
    """`<data_root>/span-0/corpus.csv` with `rows` demo provisions (datagen, deterministic)."""
    target = data_root / "span-0" / "corpus.csv"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "datagen", "--out", str(target), "--rows", str(rows), "--seed", str(seed)]
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"datagen failed ({' '.join(cmd)}): {done.stderr.strip()[-500:]}")
    return target


def run_config(
    run_dir: Path, data_root: Path, beam_mode: str, cached: bool, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The PipelineConfig (as JSON data) of one measured run."""
    from benchmarks.quality import deep_merge

    forced = {
        "data_root": str(data_root),
        "dataset_name": "demo",  # datagen output: the demo schema's 12 labels
        "pipeline_root": str(run_dir / "pipeline"),
        "metadata_path": str(run_dir / "metadata.sqlite"),
        "model_base_dir": str(run_dir / "serving"),
        # Off for measured runs: a leftover cache would make them measure nothing.
        "enable_cache": cached,
        "beam": {"direct_running_mode": beam_mode},
    }
    return deep_merge(overrides, forced)


def split_rows(metadata_path: Path, pipeline_name: str) -> dict[str, int]:
    """{split: rows} of the latest run's ExampleGen output (its label counts in MLMD)."""
    from lexflow.metadata import store as md
    from lexflow.metadata.validation import rows_per_split

    store = md.open_store(metadata_path)
    run = md.latest_run(store, pipeline_name)
    for info in md.run_executions(store, run, pipeline_name) if run is not None else []:
        if info.component == "ExampleGen":
            for examples in md.output_artifacts(store, info.execution.id, "examples"):
                return rows_per_split(examples)
    return {}


def component_times(metadata_path: Path, pipeline_name: str) -> dict[str, dict[str, Any]]:
    """{component: {state, seconds}} of the latest run in an MLMD file, in run order."""
    from lexflow.metadata import store as md

    store = md.open_store(metadata_path)
    run = md.latest_run(store, pipeline_name)
    if run is None:
        return {}
    return {
        e.component: {"state": e.state, "seconds": round(e.seconds, 2)}
        for e in md.run_executions(store, run, pipeline_name)
    }


def execute(
    spec: RunSpec, run_dir: Path, data_root: Path, overrides: dict[str, Any], echo: Callable[..., None] = print
) -> RunResult:
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_config(run_dir, data_root, spec.beam_mode, spec.cached, overrides)
    config_path = run_dir / f"{spec.name}.json"
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    cmd = [sys.executable, "local_runner.py", "--config", str(config_path)]
    load = [round(x, 2) for x in os.getloadavg()]
    echo(f"[{spec.name}] {spec.rows} rows, beam {spec.beam_mode}{', cache on' if spec.cached else ''}; load {load}")
    stats = run_measured(
        cmd,
        run_dir / f"{spec.name}.log",
        on_line=lambda line: echo(f"[{spec.name}]   {line}") if line.strip() else None,
    )
    result = RunResult(
        spec.name,
        spec.scale,
        spec.rows,
        spec.beam_mode,
        spec.cached,
        load,
        round(stats.wall_seconds, 1),
        round(stats.peak_tree_rss_mib),
        round(stats.peak_process_rss_mib),
        stats.returncode,
    )
    if stats.returncode != 0:
        result.error = (
            f"exit {stats.returncode}: " + stats.output_tail.strip().splitlines()[-1:][0]
            if stats.output_tail.strip()
            else f"exit {stats.returncode}"
        )
    result.load_average_after = [round(x, 2) for x in os.getloadavg()]
    try:
        metadata, name = Path(config["metadata_path"]), config.get("pipeline_name", "lexflow")
        result.components = component_times(metadata, name)
        result.split_rows = split_rows(metadata, name)
    except Exception as exc:  # a failed run may leave no store; the error above says why
        result.error = result.error or f"no metadata: {exc}"
    evaluator = result.components.get("Evaluator", {})
    if evaluator.get("state") == "COMPLETE" and result.split_rows.get("eval"):
        result.evaluator_seconds_per_1k_eval_rows = round(1000 * evaluator["seconds"] / result.split_rows["eval"], 3)
    if result.components:
        result.component_seconds_total = round(sum(c["seconds"] for c in result.components.values()), 1)
        trainer = result.components.get("Trainer", {})
        if trainer.get("state") == "COMPLETE" and trainer.get("seconds"):
            result.trainer_seconds = trainer["seconds"]
            result.pipeline_to_trainer_ratio = round(result.wall_seconds / trainer["seconds"], 2)
    echo(
        f"[{spec.name}] wall {result.wall_seconds:.0f} s, peak RSS {result.peak_tree_rss_mib} MiB (tree), "
        f"Trainer {result.trainer_seconds or 0:.0f} s" + (f"; ERROR {result.error}" if result.error else "")
    )
    return result


# --------------------------------------------------------------------------------------------
# Analysis and report
# --------------------------------------------------------------------------------------------


def linear_fit(points: Sequence[tuple[float, float]]) -> Optional[dict[str, float]]:
    """Least squares y = fixed + per_row * x over (x, y) points, with the worst relative residual."""
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    intercept = my - slope * mx
    worst = max(abs(y - (intercept + slope * x)) / y for x, y in points if y) if any(y for _, y in points) else 0.0
    return {"fixed_seconds": intercept, "seconds_per_1k_rows": slope * 1000, "max_relative_residual": worst}


def component_names(results: Sequence[RunResult]) -> list[str]:
    seen = [name for r in results for name in r.components]
    extra = [name for i, name in enumerate(seen) if name not in COMPONENT_ORDER and name not in seen[:i]]
    return [c for c in COMPONENT_ORDER if c in seen] + extra


def scaled_runs(results: Sequence[RunResult]) -> list[RunResult]:
    """The default-mode, uncached, successful runs, by rows."""
    return sorted(
        (r for r in results if not r.cached and r.returncode == 0 and r.name == f"{r.scale}x"), key=lambda r: r.rows
    )


def growth_exponent(rows: tuple[float, float], seconds: tuple[float, float]) -> Optional[float]:
    """log(t2/t1) / log(r2/r1): 1 = time grows as the rows, 0 = fixed cost, > 1 = superlinear."""
    if rows[0] <= 0 or rows[1] <= rows[0] or seconds[0] <= 0 or seconds[1] <= 0:
        return None
    return math.log(seconds[1] / seconds[0]) / math.log(rows[1] / rows[0])


def growth_exponents(scaled: Sequence[RunResult]) -> dict[str, dict[str, Optional[float]]]:
    """{wall or component: {"1x->4x": exponent, ...}} between consecutive scales."""
    out: dict[str, dict[str, Optional[float]]] = {}
    pairs = list(itertools.pairwise(scaled))
    if not pairs:
        return out
    names = ["wall", *component_names(scaled)]
    for name in names:
        steps: dict[str, Optional[float]] = {}
        for a, b in pairs:
            ta, tb = (a.wall_seconds, b.wall_seconds) if name == "wall" else (_seconds(a, name), _seconds(b, name))
            if ta is None or tb is None or max(ta, tb) < MIN_GROWTH_SECONDS:
                continue
            exponent = growth_exponent((a.rows, b.rows), (ta, tb))
            steps[f"{a.name}->{b.name}"] = None if exponent is None else round(exponent, 2)
        if steps:
            out[name] = steps
    return out


def _seconds(run: RunResult, component: str) -> Optional[float]:
    comp = run.components.get(component)
    return comp["seconds"] if comp and comp.get("state") == "COMPLETE" else None


def target_checks(scaled: Sequence[RunResult], exponents: dict[str, dict[str, Optional[float]]]) -> list[str]:
    """Issue 25.3's targets against the runs: one line each, saying met or not, with the numbers."""
    lines = []
    big = {
        r.name: r.evaluator_seconds_per_1k_eval_rows
        for r in scaled
        if r.scale >= EVALUATOR_TARGET_FROM_SCALE and r.evaluator_seconds_per_1k_eval_rows is not None
    }
    if big:
        values = ", ".join(f"{name} {value:.2f}" for name, value in big.items())
        met = all(value <= EVALUATOR_TARGET_S_PER_1K for value in big.values())
        lines.append(
            f"Evaluator <= {EVALUATOR_TARGET_S_PER_1K} s per 1,000 eval rows from {EVALUATOR_TARGET_FROM_SCALE}x: "
            f"{'met' if met else 'NOT met'} ({values})."
        )
    superlinear = [
        f"{name} {step} {value:.2f}"
        for name, steps in exponents.items()
        for step, value in steps.items()
        if value is not None and value > SUPERLINEAR_EXPONENT
    ]
    if exponents:
        lines.append(
            f"No component superlinear (growth exponent <= {SUPERLINEAR_EXPONENT}): "
            + ("met." if not superlinear else f"NOT met: {'; '.join(superlinear)}.")
        )
    if scaled:
        peak = max(scaled, key=lambda r: r.peak_tree_rss_mib)
        lines.append(
            f"Peak RSS of the process tree < {RSS_TARGET_MIB / 1024:.0f} GiB: "
            f"{'met' if peak.peak_tree_rss_mib < RSS_TARGET_MIB else 'NOT met'} "
            f"(largest {peak.peak_tree_rss_mib / 1024:.2f} GiB at {peak.name})."
        )
    return lines


def analyse(results: Sequence[RunResult]) -> dict[str, Any]:
    """Growth of wall time (and per component) with rows over the default-mode, uncached runs."""
    scaled = scaled_runs(results)
    out: dict[str, Any] = {"wall": linear_fit([(r.rows, r.wall_seconds) for r in scaled]), "components": {}}
    for name in component_names(scaled):
        pts = [(r.rows, r.components[name]["seconds"]) for r in scaled if name in r.components]
        if len(pts) != len(scaled) or max(y for _, y in pts) < 1.0:  # sub-second bookkeeping steps
            continue
        fit = linear_fit(pts)
        if fit:
            out["components"][name] = fit
    if len(scaled) >= 2:
        first, last = scaled[0], scaled[-1]
        out["wall_growth"] = {
            "rows_ratio": last.rows / first.rows,
            "wall_ratio": last.wall_seconds / first.wall_seconds,
            "from": first.name,
            "to": last.name,
        }
    out["growth_exponents"] = growth_exponents(scaled)
    out["targets"] = target_checks(scaled, out["growth_exponents"])
    return out


def auto_notes(results: Sequence[RunResult]) -> list[str]:
    """What the runs say beyond the table: cache hits, the Beam mode comparison."""
    notes = []
    by_name = {r.name: r for r in results}
    for r in results:
        if r.cached and r.components:
            missed = [c for c, v in r.components.items() if v["state"] != "CACHED" and v["seconds"] >= 1.0]
            notes.append(
                f"{r.name}: cached re-run in {r.wall_seconds:.0f} s; "
                + (f"re-executed: {', '.join(missed)}." if missed else "every component came from the cache.")
            )
        base = by_name.get(f"{r.scale}x")
        if (
            not r.cached
            and base is not None
            and r is not base
            and r.beam_mode != base.beam_mode
            and base.returncode == 0
        ):
            notes.append(
                f"{r.scale}x with Beam {r.beam_mode}: {r.wall_seconds:.0f} s and {r.peak_tree_rss_mib:.0f} MiB peak "
                f"vs. {base.wall_seconds:.0f} s and {base.peak_tree_rss_mib:.0f} MiB with {base.beam_mode}."
            )
    return notes


def machine_info() -> dict[str, Any]:
    from benchmarks.quality import machine_info as quality_machine

    return quality_machine()


def render_markdown(data: dict[str, Any]) -> str:
    runs = [RunResult(**r) for r in data["runs"]]
    m = data.get("machine", {})
    lines = [
        "# lexflow pipeline cost",
        "",
        (
            f"Generated by `python -m benchmarks.pipeline_cost` on {data.get('date')} (see BENCHMARKS.md): "
            f"{m.get('nproc')} cores ({m.get('cpu_model')}), {m.get('memory_gib')} GiB RAM, shared with other jobs "
            "(load averages before and after each run in the table). Data: `datagen` demo corpus, 3000 rows = 1x."
        ),
        "",
        *_runs_table(runs),
        "",
        *_components_table(runs),
        *_analysis_lines(data.get("analysis") or {}),
    ]
    if data.get("notes"):
        lines += ["", *[f"- {n}" for n in data["notes"]]]
    return "\n".join(lines) + "\n"


def _load(values: Sequence[float]) -> str:
    return "/".join(f"{x:.1f}" for x in values) or "–"


def _runs_table(runs: Sequence[RunResult]) -> list[str]:
    lines = [
        (
            "| run | rows | train / validation / eval rows | Beam mode | load before | load after | wall "
            "| peak RSS (tree) | peak RSS (1 process) | Evaluator s per 1k eval rows |"
        ),
        "| --- | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        splits = " / ".join(str(r.split_rows.get(k, "–")) for k in ("train", "validation", "eval"))
        per_1k = r.evaluator_seconds_per_1k_eval_rows
        lines.append(
            f"| {r.name}{' (ERROR)' if r.error else ''} | {r.rows} | {splits if r.split_rows else '–'} | "
            f"{r.beam_mode} | {_load(r.load_average_before)} | {_load(r.load_average_after)} | "
            f"{r.wall_seconds:.0f} s | {r.peak_tree_rss_mib:.0f} MiB | {r.peak_process_rss_mib:.0f} MiB | "
            f"{'–' if per_1k is None else f'{per_1k:.2f}'} |"
        )
    return lines


def _components_table(runs: Sequence[RunResult]) -> list[str]:
    names = component_names(runs)
    lines = [
        (
            'Seconds per component (MLMD execution timestamps; "other" = wall minus their sum: process '
            "start-up, imports, orchestration):"
        ),
        "",
        "| run | " + " | ".join(names) + " | other |",
        "| --- |" + " ---: |" * (len(names) + 1),
    ]
    for r in runs:
        cells = []
        for c in names:
            comp = r.components.get(c)
            cells.append(
                "–" if comp is None else f"{comp['seconds']:.1f}" + (" (cached)" if comp["state"] == "CACHED" else "")
            )
        other = "–" if r.component_seconds_total is None else f"{r.wall_seconds - r.component_seconds_total:.0f}"
        lines.append(f"| {r.name} | " + " | ".join(cells) + f" | {other} |")
    return lines


def _analysis_lines(a: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if a.get("wall"):
        w = a["wall"]
        lines += [
            "",
            (
                f"Linear fit of wall time over the default runs: {w['fixed_seconds']:.0f} s fixed + "
                f"{w['seconds_per_1k_rows']:.1f} s per 1000 rows "
                f"(worst residual {100 * w['max_relative_residual']:.0f} %)."
            ),
        ]
        if a.get("wall_growth"):
            g = a["wall_growth"]
            lines.append(
                f"{g['from']} -> {g['to']}: {g['rows_ratio']:.0f}x the rows, {g['wall_ratio']:.1f}x the wall time."
            )
    if a.get("components"):
        lines += ["", "| component | fixed s | s per 1000 rows |", "| --- | ---: | ---: |"]
        for name, fit in a["components"].items():
            lines.append(f"| {name} | {fit['fixed_seconds']:.0f} | {fit['seconds_per_1k_rows']:.2f} |")
    exponents = a.get("growth_exponents") or {}
    steps = sorted({step for by_step in exponents.values() for step in by_step}, key=lambda k: int(k.split("x")[0]))
    if steps:
        lines += [
            "",
            (
                "Growth exponents between scales (log time ratio / log rows ratio; 1 = linear, 0 = fixed cost, "
                f"components under {MIN_GROWTH_SECONDS:.0f} s left out):"
            ),
            "",
            "| | " + " | ".join(steps) + " |",
            "| --- |" + " ---: |" * len(steps),
        ]
        for name, by_step in exponents.items():
            cells = ["–" if by_step.get(k) is None else f"{by_step[k]:.2f}" for k in steps]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if a.get("targets"):
        lines += ["", "Issue 25.3's targets:", "", *[f"- {t}" for t in a["targets"]]]
    return lines


def render_plot(data: dict[str, Any], path: Path) -> bool:
    """Wall, the components that take time, and peak RSS against rows (log-log), as a PNG; False if
    there are fewer than two scaled runs."""
    scaled = scaled_runs([RunResult(**r) for r in data["runs"]])
    if len(scaled) < 2:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r.rows for r in scaled]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(rows, [r.wall_seconds for r in scaled], "k-o", linewidth=2, label="wall")
    for name in component_names(scaled):
        timed = [_seconds(r, name) for r in scaled]
        seconds = [x for x in timed if x is not None]
        if len(seconds) == len(scaled) and max(seconds) >= MIN_GROWTH_SECONDS:
            left.plot(rows, seconds, "-o", markersize=3, label=name)
    linear = [scaled[-1].wall_seconds * x / rows[-1] for x in rows]
    left.plot(rows, linear, ":", color="grey", label="linear (through the last wall)")
    left.set(xscale="log", yscale="log", xlabel="rows", ylabel="seconds", title="time per run and component")
    left.set_ylim(top=20 * max(r.wall_seconds for r in scaled))  # room for the legend above the lines
    left.legend(fontsize=7, loc="upper left", ncol=2)
    right.plot(rows, [r.peak_tree_rss_mib / 1024 for r in scaled], "-o", label="peak RSS, process tree")
    right.axhline(RSS_TARGET_MIB / 1024, color="red", linestyle="--", label="target")
    right.set(xscale="log", xlabel="rows", ylabel="GiB", title="peak memory", ylim=(0, None))
    right.legend(fontsize=7)
    fig.suptitle(f"lexflow pipeline cost ({data.get('date', '')[:10]})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def write_results(out_dir: Path, data: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RESULTS_JSON).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (out_dir / RESULTS_MD).write_text(render_markdown(data), encoding="utf-8")
    render_plot(data, out_dir / RESULTS_PNG)


def plan_runs(
    scales: Sequence[int], base_rows: int, default_mode: str, cached_rerun: bool, compare_beam_at: Optional[int]
) -> list[RunSpec]:
    if not scales or any(s < 1 for s in scales):
        raise ValueError(f"scales must be positive integers, got {list(scales)}")
    scales = sorted(set(scales))
    specs = [RunSpec(f"{s}x", s, s * base_rows, default_mode) for s in scales]
    if cached_rerun:
        s = scales[0]
        specs.append(RunSpec(f"{s}x-cached", s, s * base_rows, default_mode, cached=True))
    if compare_beam_at is not None:
        if compare_beam_at not in scales:
            raise ValueError(f"--compare-beam-at {compare_beam_at} is not one of the scales {scales}")
        other = next(m for m in BEAM_MODES if m != default_mode) if default_mode in BEAM_MODES else "in_memory"
        specs.append(RunSpec(f"{compare_beam_at}x-{other}", compare_beam_at, compare_beam_at * base_rows, other))
    return specs


@app.command()
def main(
    scale: list[int] = typer.Option(
        [1, 4, 16], "--scale", "-s", help="Data size in multiples of --base-rows (repeatable)."
    ),
    base_rows: int = typer.Option(DEMO_ROWS, min=10, help="Rows of 1x (the demo corpus has 3000)."),
    train_steps: Optional[int] = typer.Option(None, help="Override train.train_steps (default: the pipeline's)."),
    config_file: Optional[Path] = typer.Option(
        None, "--config", help="YAML/JSON of PipelineConfig fields for every run."
    ),
    beam_mode: Optional[str] = typer.Option(
        None, help="Beam direct_running_mode of the main runs (default: the config's)."
    ),
    compare_beam_at: Optional[int] = typer.Option(None, help="Re-run this scale with the other Beam mode."),
    cached_rerun: bool = typer.Option(True, help="Re-run the smallest scale with the cache on."),
    out: Path = typer.Option(DEFAULT_OUT, help="Where pipeline_cost.json, .md and .png go."),
    work_dir: Optional[Path] = typer.Option(
        None, help="Where data and run dirs go (default: a temp dir, removed after)."
    ),
    dry_run: bool = typer.Option(
        False, help="Generate the data and print the plan; run no pipeline, write no results."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not echo the pipeline's output."),
    note: list[str] = typer.Option([], help="A sentence for the report's notes (repeatable), e.g. the machine's load."),
    render_only: bool = typer.Option(
        False, help="Re-render pipeline_cost.md from the JSON in --out (after editing notes)."
    ),
) -> None:
    """Run the local pipeline at several data sizes; record wall time, per-component time and peak memory."""
    notes = note
    if render_only:
        path = out / RESULTS_JSON
        if not path.is_file():
            typer.echo(f"error: {path} does not exist", err=True)
            raise typer.Exit(2)
        saved = json.loads(path.read_text(encoding="utf-8"))
        runs = [RunResult(**r) for r in saved["runs"]]
        saved["analysis"] = analyse(runs)
        old_notes = [n for n in saved.get("notes", []) if n not in auto_notes(runs)]
        saved["notes"] = auto_notes(runs) + old_notes + list(notes)
        write_results(out, saved)
        typer.echo(f"wrote {out / RESULTS_MD}")
        return
    from benchmarks.quality import read_config_file
    from pipeline.config import PipelineConfig

    try:
        overrides = read_config_file(config_file)
        if train_steps is not None:
            overrides.setdefault("train", {})["train_steps"] = train_steps
        defaults = PipelineConfig.model_validate(overrides)  # validates the file early; paths are set per run
        mode = beam_mode or defaults.beam.direct_running_mode
        if mode not in (*BEAM_MODES, "multi_threading"):
            raise ValueError(f"unknown Beam mode {mode!r}")
        specs = plan_runs(scale, base_rows, mode, cached_rerun, compare_beam_at)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    own = work_dir is None
    root = Path(tempfile.mkdtemp(prefix="lexflow-cost-")) if work_dir is None else work_dir.absolute()
    root.mkdir(parents=True, exist_ok=True)
    echo = (lambda s: None if "]   " in s else typer.echo(s)) if quiet else typer.echo
    typer.echo(
        f"plan ({len(specs)} runs, train_steps={defaults.train.train_steps}, work dir {root}): "
        + ", ".join(f"{s.name} ({s.rows} rows, {s.beam_mode})" for s in specs)
    )
    results: list[RunResult] = []
    data: dict[str, Any] = {}
    try:
        data_roots = {}
        for s in sorted({s.scale for s in specs}):
            start = time.perf_counter()
            data_roots[s] = root / "data" / f"{s}x" / "demo"
            generate_data(data_roots[s], s * base_rows)
            typer.echo(f"data {s}x: {s * base_rows} rows in {data_roots[s]} ({time.perf_counter() - start:.0f} s)")
        if dry_run:
            for spec in specs:
                typer.echo(
                    f"would run {spec.name}: local_runner.py --config "
                    f"{root / 'runs' / spec.name.replace('-cached', '') / (spec.name + '.json')}"
                )
            return
        data = {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "base_rows": base_rows,
            "train_steps": defaults.train.train_steps,
            "config_file": str(config_file) if config_file else None,
            "overrides": overrides,
            "runs": [],
            "notes": [],
        }
        for spec in specs:
            # The cached re-run reuses the run dir (pipeline root + MLMD) of its uncached twin.
            run_dir = root / "runs" / (spec.name[: -len("-cached")] if spec.cached else spec.name)
            results.append(execute(spec, run_dir, data_roots[spec.scale], overrides, echo=echo))
            data["runs"] = [asdict(r) for r in results]
            data["analysis"] = analyse(results)
            data["notes"] = auto_notes(results) + list(notes)
            write_results(out, data)  # after every run, so a long benchmark leaves partial results
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)
        else:
            typer.echo(f"work dir kept: {root}")
    typer.echo(f"wrote {out / RESULTS_JSON} and {out / RESULTS_MD}")
    if any(r.returncode != 0 for r in results):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
