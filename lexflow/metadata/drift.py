"""DriftCheck's reports in MLMD: which report belongs to which span, and where its HTML is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from components.drift_check.report import HTML_FILE
from components.drift_check.spec import DriftReport
from lexflow.metadata import store as md


@dataclass(frozen=True)
class DriftReportRef:
    artifact_id: int
    span: Optional[int]
    baseline_span: Optional[int]  # None: the span had no previous one
    drifted: bool
    summary: str
    uri: str

    @property
    def html(self) -> str:
        return str(Path(self.uri) / HTML_FILE)


def html_report(artifact: metadata_store_pb2.Artifact) -> Optional[str]:
    """Path of a DriftReport artifact's HTML report, or None when it has none (older runs)."""
    path = Path(artifact.uri) / HTML_FILE
    return str(path) if path.is_file() else None


def drift_report(store: mlmd.MetadataStore, artifact: metadata_store_pb2.Artifact) -> DriftReportRef:
    baseline = md.custom_property(artifact, "baseline_span")
    return DriftReportRef(
        artifact_id=artifact.id,
        span=md.span_of(artifact, store),
        baseline_span=None if baseline in (None, -1) else int(baseline),
        drifted=bool(md.custom_property(artifact, "drifted")),
        summary=str(md.custom_property(artifact, "summary") or ""),
        uri=artifact.uri,
    )


def drift_reports(store: mlmd.MetadataStore) -> list[DriftReportRef]:
    """Every DriftCheck report, newest first (found by type, whatever the node is called)."""
    artifacts = store.get_artifacts_by_type(DriftReport.TYPE_NAME)
    return [drift_report(store, a) for a in sorted(artifacts, key=lambda a: a.id, reverse=True)]
