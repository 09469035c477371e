"""Lineage from MLMD: what produced a served version, and which versions a data span fed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from core.errors import UserError
from lexflow.metadata import store as md


@dataclass
class VersionLineage:
    version: str
    served_path: str
    model_uri: str
    trainer_execution: int
    transform_graph_uri: str
    schema_uri: str
    spans: list[int]
    examples_uris: list[str]
    evaluation_uri: Optional[str]
    blessed: Optional[bool]
    baseline_model_uri: Optional[str]
    pusher_execution: int
    drift: dict[int, str] = field(default_factory=dict)  # span -> DriftCheck's summary when it was ingested
    statistics: dict[int, str] = field(default_factory=dict)  # span -> URI of StatisticsGen's statistics of it
    extra: dict = field(default_factory=dict)


def _type_name(store: mlmd.MetadataStore, artifact: metadata_store_pb2.Artifact) -> str:
    return store.get_artifact_types_by_id([artifact.type_id])[0].name


def _pushed_models(store: mlmd.MetadataStore) -> list:
    return [a for a in store.get_artifacts_by_type("PushedModel") if md.custom_property(a, "pushed")]


def _consumers(store: mlmd.MetadataStore, artifact_id: int) -> list[int]:
    from ml_metadata.proto import metadata_store_pb2 as pb

    return [
        e.execution_id
        for e in store.get_events_by_artifact_ids([artifact_id])
        if e.type in (pb.Event.INPUT, pb.Event.DECLARED_INPUT)
    ]


def version_lineage(store: mlmd.MetadataStore, version: Optional[str] = None) -> VersionLineage:
    pushed = _pushed_models(store)
    if not pushed:
        raise UserError("no pushed model in this metadata store")
    if version is None:
        chosen = max(pushed, key=lambda a: int(md.custom_property(a, "pushed_version") or 0))
    else:
        matches = [a for a in pushed if str(md.custom_property(a, "pushed_version")) == str(version)]
        if not matches:
            known = sorted({str(md.custom_property(a, "pushed_version")) for a in pushed})
            raise UserError(f"version {version} was never pushed (pushed versions: {', '.join(known)})")
        chosen = matches[0]
    pusher = md.producer_of(store, chosen.id)
    model = md.input_artifacts(store, pusher.id, "model")[0]
    trainer = md.producer_of(store, model.id)
    transform_graph = md.input_artifacts(store, trainer.id, "transform_graph")[0]
    schema = md.input_artifacts(store, trainer.id, "schema")[0]
    transform = md.producer_of(store, transform_graph.id)
    examples = md.input_artifacts(store, transform.id, "examples")
    # The evaluation that gated this push is the one whose blessing the Pusher read; the model may
    # also have been evaluated later as another run's baseline, which says nothing about this push.
    evaluation_uri = blessed = baseline_uri = None
    blessings = md.input_artifacts(store, pusher.id, "model_blessing")
    if blessings:
        blessed = bool(md.custom_property(blessings[0], "blessed"))
        evaluator = md.producer_of(store, blessings[0].id)
        evaluation = md.output_artifacts(store, evaluator.id, "evaluation")
        evaluation_uri = evaluation[0].uri if evaluation else None
        baseline = md.compared_baseline(md.input_artifacts(store, evaluator.id, "baseline_model"))
        baseline_uri = baseline[0].uri if baseline else None
    drift, statistics = {}, {}
    for example in examples:
        for execution_id in _consumers(store, example.id):
            for stats in md.output_artifacts(store, execution_id, "statistics"):
                statistics[md.span_of(stats, store) or 0] = stats.uri
        # DriftCheck reads the newest span on its own (SpanExampleGen's `newest_examples`), not the window.
        generator = md.producer_execution(store, example.id)
        newest = md.output_artifacts(store, generator.id, "newest_examples") if generator else []
        for source in [example, *newest]:
            span = md.span_of(source, store)
            for execution_id in _consumers(store, source.id):
                for report in md.output_artifacts(store, execution_id, "drift_report"):
                    if md.span_of(report, store) == span:
                        drift[span or 0] = str(md.custom_property(report, "summary"))
    return VersionLineage(
        version=str(md.custom_property(chosen, "pushed_version")),
        served_path=str(md.custom_property(chosen, "pushed_destination")),
        model_uri=model.uri,
        trainer_execution=trainer.id,
        transform_graph_uri=transform_graph.uri,
        schema_uri=schema.uri,
        spans=sorted({span for e in examples for span in (md.spans_of(e) or [md.span_of(e, store) or 0])}),
        examples_uris=[e.uri for e in examples],
        evaluation_uri=evaluation_uri,
        blessed=blessed,
        baseline_model_uri=baseline_uri,
        pusher_execution=pusher.id,
        drift=drift,
        statistics=statistics,
    )


def versions_fed_by_span(store: mlmd.MetadataStore, span: int) -> list[str]:
    """Pushed versions whose training data included `span`."""
    versions = set()
    for pushed in _pushed_models(store):
        try:
            if span in version_lineage(store, md.custom_property(pushed, "pushed_version")).spans:
                versions.add(str(md.custom_property(pushed, "pushed_version")))
        except (IndexError, UserError):
            continue
    return sorted(versions)


def version_pushed_by_run(store: mlmd.MetadataStore, run_id: str, pipeline_name: str = "lexflow") -> str:
    """The version one pipeline run (its id, or "latest") pushed; an error when it pushed none."""
    if run_id == md.LATEST_RUN:
        run = md.latest_run(store, pipeline_name)
        if run is None:
            raise UserError(f"pipeline {pipeline_name!r} has no run in this metadata store")
    else:
        run = store.get_context_by_type_and_name(md.PIPELINE_RUN, run_id)
        if run is None:
            raise UserError(f"no pipeline run {run_id!r} in this metadata store")
    for execution in store.get_executions_by_context(run.id):
        for pushed in md.output_artifacts(store, execution.id, "pushed_model"):
            if md.custom_property(pushed, "pushed"):
                return str(md.custom_property(pushed, "pushed_version"))
    raise UserError(f"pipeline run {run.name!r} pushed no model (its candidate was not blessed, or it failed)")
