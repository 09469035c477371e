"""Where a sampled process spent its CPU: py-spy's raw (collapsed) stacks summarised as text.

    python -m benchmarks.profile_summary STACKS.raw [--requests N] [--rate 250]

Input: `py-spy record --threads --nolineno --format raw`, one line per distinct stack,
`thread (TID): NAME;outer (file);...;inner (file) COUNT`. Idle threads are not sampled, so a
thread's samples are its time on a CPU (or waiting for the GIL). The summary gives, per thread and
overall, the share of samples and (with `--requests`) the microseconds per request; the self time
by package (the innermost frame's top-level module: where the cycles were burnt) and the inclusive
time of the functions most samples pass through (what they were burnt for).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Optional

import typer

_LINE = re.compile(r"^thread \((?P<tid>[^)]*)\)(?::\s*(?P<name>[^;]*))?;?(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")
_NUMBERED = re.compile(r"[-_ ]?v?\d+$")  # batcher-v1795655355, "AnyIO worker thread 3" -> one group


def _thread_group(name: Optional[str], stack: list[str]) -> str:
    name = (name or "").strip()
    if name:
        return _NUMBERED.sub("", name)
    for frame in stack:  # unnamed (a thread py-spy could not name): its entry point
        match = _FRAME.match(frame)
        if match and match["function"] not in ("_bootstrap", "_bootstrap_inner", "run", "<module>"):
            return f"thread in {match['function']}"
    return "unnamed"


def _package(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    file = match["file"]
    if file.startswith("<frozen"):
        return "importlib"
    parts = Path(file).parts
    top = parts[0] if parts else file
    return top[:-3] if top.endswith(".py") else top


def _label(frame: str) -> str:
    match = _FRAME.match(frame)
    return f"{match['function']} ({match['file']})" if match else frame


def summarize(
    raw: str,
    requests: Optional[int] = None,
    rate: float = 250.0,
    top: int = 25,
    thread_cpu: Optional[dict[str, tuple[str, float]]] = None,
) -> str:
    """`thread_cpu`: thread id -> (thread name, CPU seconds) over the same interval (from /proc):
    the exact CPU split between threads, which sampling only estimates."""
    threads: Counter[str] = Counter()
    self_by_package: dict[str, Counter[str]] = {}
    self_by_function: dict[str, Counter[str]] = {}
    inclusive: dict[str, Counter[str]] = {}
    for line in raw.splitlines():
        found = _LINE.match(line.strip())
        if found is None:
            continue
        count = int(found["count"])
        stack = [f for f in found["stack"].split(";") if f]
        group = _thread_group(found["name"], stack)
        threads[group] += count
        leaf = stack[-1] if stack else "(no Python frame)"
        self_by_package.setdefault(group, Counter())[_package(leaf)] += count
        self_by_function.setdefault(group, Counter())[_label(leaf)] += count
        seen = set()
        for frame in stack:
            label = _label(frame)
            if label not in seen:
                seen.add(label)
                inclusive.setdefault(group, Counter())[label] += count
    total = sum(threads.values())
    if not total:
        return "no samples\n"

    def amount(samples: int) -> str:
        share = f"{100 * samples / total:5.1f} %"
        return f"{share}  {1e6 * samples / rate / requests:7.1f} us/request" if requests else share

    out = []
    if thread_cpu:
        cpu: dict[str, float] = {}
        for name, seconds in thread_cpu.values():
            group = _thread_group(name, [])
            cpu[group] = cpu.get(group, 0.0) + seconds
        whole = sum(cpu.values())
        per_request = f", {1e6 * whole / requests:.0f} us/request" if requests else ""
        out += [f"CPU time by thread (/proc): {whole:.2f} s{per_request}"]
        out += [
            f"  {100 * seconds / whole:5.1f} %"
            + (f"  {1e6 * seconds / requests:7.1f} us/request" if requests else "")
            + f"  {group}"
            for group, seconds in sorted(cpu.items(), key=lambda item: -item[1])
            if seconds > 0
        ]
        out += [""]
    out += [f"{total} samples at {rate:g} Hz" + (f", {requests} requests" if requests else "")]
    out += ["", "samples by thread (of the thread holding the GIL):"]
    out += [f"  {amount(n)}  {group}" for group, n in threads.most_common()]
    for group, _ in threads.most_common():
        out += ["", f"== {group}: self time by package"]
        out += [f"  {amount(n)}  {name}" for name, n in self_by_package[group].most_common(12)]
        out += [f"-- {group}: self time by function"]
        out += [f"  {amount(n)}  {name}" for name, n in self_by_function[group].most_common(top)]
        out += [f"-- {group}: inclusive time by function"]
        out += [f"  {amount(n)}  {name}" for name, n in inclusive[group].most_common(top)]
    return "\n".join(out) + "\n"


def main(
    stacks: Path = typer.Argument(..., exists=True, dir_okay=False, help="py-spy raw output (--threads)."),
    requests: Optional[int] = typer.Option(None, help="Requests answered while sampling: adds us/request."),
    rate: float = typer.Option(250.0, help="py-spy's --rate."),
    top: int = typer.Option(25, help="Functions listed per thread."),
) -> None:
    typer.echo(summarize(stacks.read_text(), requests, rate, top), nl=False)


if __name__ == "__main__":
    typer.run(main)
