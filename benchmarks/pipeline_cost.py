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

The child is a separate process so the memory of one run does not inherit the previous one's
and a crash is contained. Results go to `<out>/pipeline_cost.json` and `.md`.
"""

from __future__ import annotations

import datetime as dt
import json
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
    try:
        result.components = component_times(Path(config["metadata_path"]), config.get("pipeline_name", "lexflow"))
    except Exception as exc:  # a failed run may leave no store; the error above says why
        result.error = result.error or f"no metadata: {exc}"
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


def analyse(results: Sequence[RunResult]) -> dict[str, Any]:
    """Growth of wall time (and per component) with rows over the default-mode, uncached runs."""
    scaled = sorted(
        (r for r in results if not r.cached and r.returncode == 0 and r.name == f"{r.scale}x"), key=lambda r: r.rows
    )
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
            "(load average before each run in the table). Data: `datagen` demo corpus, 3000 rows = 1x."
        ),
        "",
        (
            "| run | rows | Beam mode | load before | wall | peak RSS (tree) | peak RSS (1 process) | Trainer "
            "| wall / Trainer |"
        ),
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        load = "/".join(f"{x:.1f}" for x in r.load_average_before)
        lines.append(
            f"| {r.name}{' (ERROR)' if r.error else ''} | {r.rows} | {r.beam_mode} | {load} | {r.wall_seconds:.0f} s | "
            f"{r.peak_tree_rss_mib:.0f} MiB | {r.peak_process_rss_mib:.0f} MiB | "
            f"{'–' if r.trainer_seconds is None else f'{r.trainer_seconds:.0f} s'} | "
            f"{'–' if r.pipeline_to_trainer_ratio is None else f'{r.pipeline_to_trainer_ratio:.1f}'} |"
        )
    names = component_names(runs)
    lines += [
        "",
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
                "–" if comp is None else f"{comp['seconds']:.0f}" + (" (cached)" if comp["state"] == "CACHED" else "")
            )
        other = "–" if r.component_seconds_total is None else f"{r.wall_seconds - r.component_seconds_total:.0f}"
        lines.append(f"| {r.name} | " + " | ".join(cells) + f" | {other} |")
    a = data.get("analysis") or {}
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
    if data.get("notes"):
        lines += ["", *[f"- {n}" for n in data["notes"]]]
    return "\n".join(lines) + "\n"


def write_results(out_dir: Path, data: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RESULTS_JSON).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (out_dir / RESULTS_MD).write_text(render_markdown(data), encoding="utf-8")


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
    out: Path = typer.Option(DEFAULT_OUT, help="Where pipeline_cost.json and .md go."),
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
