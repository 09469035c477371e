"""The reports directory: what `lexflow drift` writes there and the gateway serves from it.

Defined once here because both sides need it and neither may import the other: the CLI writes
self-contained HTML reports and, for the newest live-traffic report, a small JSON verdict; the
gateway lists and serves the HTML (`/v1/reports`) and exports the verdict as the gauge
`lexflow_drift_detected`. Names are plain file names in one flat directory, so nothing a client
sends can reach a path outside it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from core.atomic_file import write_text_atomically

LIVE_VERDICT_FILE = "drift-live.json"
LIVE_PREFIX = "drift-live-"
RUN_PREFIX = "drift-span-"
REPORT_SUFFIX = ".html"
REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.html$")
log = logging.getLogger("lexflow.reports")


@dataclass(frozen=True)
class DriftVerdict:
    """The newest live drift report's outcome (the JSON next to it)."""

    drifted: bool
    report: str  # file name of the HTML report in the same directory
    generated_at: str  # ISO 8601, UTC
    current_rows: int = 0
    baseline_rows: int = 0
    measures: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> DriftVerdict:
        """ValueError unless `data` is a verdict as `write_verdict` writes it (a hand-edited or
        half-written file must not break the pages and the gauge that read it)."""
        if not isinstance(data, dict) or not isinstance(data.get("drifted"), bool):
            raise ValueError("not a drift verdict: needs a boolean 'drifted'")
        report = data.get("report", "")
        measures = data.get("measures", [])
        if not isinstance(report, str) or (report and not REPORT_NAME.match(report)):
            raise ValueError("'report' must be a report file name")
        if not isinstance(measures, list) or not all(isinstance(m, dict) for m in measures):
            raise ValueError("'measures' must be a list of objects")
        return cls(
            drifted=data["drifted"],
            report=report,
            generated_at=_text(data, "generated_at"),
            current_rows=_count(data, "current_rows"),
            baseline_rows=_count(data, "baseline_rows"),
            measures=list(measures),
        )


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string")
    return value


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"'{key}' must be a whole number")
    return value


@dataclass(frozen=True)
class ReportFile:
    name: str
    bytes: int
    modified: float  # seconds since the epoch


def write_verdict(directory: Path, verdict: DriftVerdict) -> Path:
    path = Path(directory) / LIVE_VERDICT_FILE
    write_text_atomically(path, json.dumps(asdict(verdict), indent=2))
    return path


_warned: set[tuple[str, float]] = set()


def read_verdict(directory: Path) -> Optional[DriftVerdict]:
    """The newest live verdict, or None when there is none or it cannot be read (logged once per
    version of the file: readers call this at every scrape)."""
    path = Path(directory) / LIVE_VERDICT_FILE
    try:
        return DriftVerdict.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:  # bad JSON or field, unreadable bytes, a folder
        try:
            key = (str(path), path.stat().st_mtime)
        except OSError:
            key = (str(path), 0.0)
        if key not in _warned:
            _warned.add(key)
            log.warning("%s: skipped, not a readable drift verdict (%s)", path, exc)
        return None


def report_path(directory: Path, name: str) -> Optional[Path]:
    """The report called `name` in `directory`, or None: a name that is not a plain report file
    name, or a file (or link) that does not resolve to a regular file inside the directory."""
    if not REPORT_NAME.match(name):
        return None
    root = Path(directory).resolve()
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        return None
    return path


def list_reports(directory: Path) -> list[ReportFile]:
    """Every report in the directory, newest first."""
    root = Path(directory)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        path = report_path(root, entry.name)
        if path is not None:
            stat = path.stat()
            found.append(ReportFile(entry.name, stat.st_size, stat.st_mtime))
    return sorted(found, key=lambda r: (-r.modified, r.name))


# -- lineage records: what the gateway may show of a version's provenance ------------------------
# The gateway must not read MLMD (import contracts), so `lexflow run` writes what its run summary
# found in MLMD for a pushed version (spans, evaluation, blessing) as lineage-v<version>.json here.
LINEAGE_PREFIX = "lineage-v"


def lineage_path(directory: Path, version: int) -> Path:
    return Path(directory) / f"{LINEAGE_PREFIX}{int(version)}.json"


def write_lineage(directory: Path, version: int, record: dict[str, Any]) -> Path:
    path = lineage_path(directory, version)
    write_text_atomically(path, json.dumps(record, indent=2, sort_keys=True, default=str))
    return path


def read_lineage(directory: Path, version: int) -> Optional[dict[str, Any]]:
    """The lineage record of a version, or None when none was written (or it cannot be read)."""
    try:
        data = json.loads(lineage_path(directory, version).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
