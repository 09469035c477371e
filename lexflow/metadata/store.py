"""Read-only queries of the ML Metadata store that the local runner writes (SQLite).

MLMD on SQLite allows one writer (the pipeline); everything here only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from components.artifacts import custom_value, span_of, spans_of
from core.errors import UserError

__all__ = ["span_of", "spans_of"]  # re-exported: the one reader of an artifact's span

PIPELINE_RUN = "pipeline_run"
LATEST_RUN = "latest"  # what a reader passes for "the newest pipeline run" where a run id is asked for
NODE = "node"
_STATE_NAMES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}


def open_store(path: Path) -> mlmd.MetadataStore:
    if not Path(path).is_file():
        raise UserError(f"metadata store {path} does not exist (run the pipeline first)")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return mlmd.MetadataStore(config)


@dataclass(frozen=True)
class ExecutionInfo:
    component: str
    state: str
    started_ms: int
    updated_ms: int
    execution: metadata_store_pb2.Execution

    @property
    def seconds(self) -> float:
        return max(0, self.updated_ms - self.started_ms) / 1000.0


def pipeline_name_in(store: mlmd.MetadataStore, pipeline_name: str) -> str:
    """`pipeline_name`, or the store's only pipeline when it holds no other: each model has its own
    store (artifacts/<model>/metadata.sqlite), so a reader pointed at it needs no name."""
    if store.get_context_by_type_and_name("pipeline", pipeline_name) is not None:
        return pipeline_name
    names = [c.name for c in store.get_contexts_by_type("pipeline")]
    return names[0] if len(names) == 1 else pipeline_name


def latest_run(store: mlmd.MetadataStore, pipeline_name: str) -> Optional[metadata_store_pb2.Context]:
    pipeline = store.get_context_by_type_and_name("pipeline", pipeline_name_in(store, pipeline_name))
    runs = store.get_contexts_by_type(PIPELINE_RUN)
    if pipeline is not None:
        # Run contexts are associated with the executions of their pipeline's nodes.
        pipeline_execution_ids = {e.id for e in store.get_executions_by_context(pipeline.id)}
        runs = [c for c in runs if {e.id for e in store.get_executions_by_context(c.id)} & pipeline_execution_ids]
    return max(runs, key=lambda c: (c.create_time_since_epoch, c.id), default=None)


def node_id_of(store: mlmd.MetadataStore, execution_id: int, pipeline_name: str) -> str:
    for context in store.get_contexts_by_execution(execution_id):
        if context.type == NODE or context.name.startswith(pipeline_name + "."):
            return context.name.split(".", 1)[-1]
    return "?"


def run_executions(
    store: mlmd.MetadataStore, run: metadata_store_pb2.Context, pipeline_name: str
) -> list[ExecutionInfo]:
    infos = []
    for execution in store.get_executions_by_context(run.id):
        infos.append(
            ExecutionInfo(
                component=node_id_of(store, execution.id, pipeline_name),
                state=_STATE_NAMES.get(execution.last_known_state, "UNKNOWN"),
                started_ms=execution.create_time_since_epoch,
                updated_ms=execution.last_update_time_since_epoch,
                execution=execution,
            )
        )
    return sorted(infos, key=lambda i: (i.started_ms, i.execution.id))


def output_artifacts(
    store: mlmd.MetadataStore, execution_id: int, key: Optional[str] = None
) -> list[metadata_store_pb2.Artifact]:
    """Artifacts an execution output (or, for a cached execution, re-used as output)."""
    wanted = {metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT}
    ids = []
    for event in store.get_events_by_execution_ids([execution_id]):
        if event.type not in wanted:
            continue
        if key is not None and not any(step.key == key for step in event.path.steps):
            continue
        ids.append(event.artifact_id)
    return store.get_artifacts_by_id(ids) if ids else []


def input_artifacts(
    store: mlmd.MetadataStore, execution_id: int, key: Optional[str] = None
) -> list[metadata_store_pb2.Artifact]:
    ids = [
        e.artifact_id
        for e in store.get_events_by_execution_ids([execution_id])
        if e.type in (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)
        and (key is None or any(step.key == key for step in e.path.steps))
    ]
    return store.get_artifacts_by_id(ids) if ids else []


def producer_execution(store: mlmd.MetadataStore, artifact_id: int) -> Optional[metadata_store_pb2.Execution]:
    # Cached executions also record the artifacts they reuse as outputs: the producer is the first.
    ids = [
        e.execution_id
        for e in store.get_events_by_artifact_ids([artifact_id])
        if e.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
    ]
    return store.get_executions_by_id([min(ids)])[0] if ids else None


def producer_of(store: mlmd.MetadataStore, artifact_id: int) -> metadata_store_pb2.Execution:
    """`producer_execution` for artifacts lineage must have a producer of (else the store is not ours)."""
    execution = producer_execution(store, artifact_id)
    if execution is None:
        raise UserError(f"artifact {artifact_id} has no producing execution in this metadata store")
    return execution


def custom_property(artifact: metadata_store_pb2.Artifact, name: str) -> Any:
    # The components' reader: also the JSON structs and "custom:" keys of Kubeflow's ML Metadata.
    return custom_value(artifact, name)


def state_name(execution: metadata_store_pb2.Execution) -> str:
    return _STATE_NAMES.get(execution.last_known_state, "UNKNOWN")


def artifact_type_name(store: mlmd.MetadataStore, artifact: metadata_store_pb2.Artifact) -> str:
    return store.get_artifact_types_by_id([artifact.type_id])[0].name


def node_executions(store: mlmd.MetadataStore, pipeline_name: str, node_id: str) -> list[metadata_store_pb2.Execution]:
    """Every execution of one pipeline node across runs, oldest first (cached ones included)."""
    node = store.get_context_by_type_and_name(NODE, f"{pipeline_name_in(store, pipeline_name)}.{node_id}")
    if node is None:
        return []
    return sorted(store.get_executions_by_context(node.id), key=lambda e: (e.create_time_since_epoch, e.id))


def input_artifacts_by_key(
    store: mlmd.MetadataStore, execution_id: int
) -> dict[str, list[metadata_store_pb2.Artifact]]:
    """An execution's inputs grouped by channel key ('model', 'baseline_model', ...).

    The key is the only place MLMD says in which role an artifact was consumed: the
    Evaluator's candidate and baseline are both `Model`s. One artifact in two roles (a cached
    Trainer's model that is also the baseline) is one event whose path names both keys.
    """
    wanted = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)
    ids_by_key: dict[str, list[int]] = {}
    for event in store.get_events_by_execution_ids([execution_id]):
        if event.type not in wanted:
            continue
        keys = [step.key for step in event.path.steps if step.HasField("key")] or [""]
        for key in dict.fromkeys(keys):
            ids_by_key.setdefault(key, []).append(event.artifact_id)
    all_ids = [i for ids in ids_by_key.values() for i in ids]
    by_id = {a.id: a for a in store.get_artifacts_by_id(all_ids)} if all_ids else {}
    return {key: [by_id[i] for i in ids if i in by_id] for key, ids in ids_by_key.items()}


def consumer_executions(store: mlmd.MetadataStore, artifact_id: int) -> list[metadata_store_pb2.Execution]:
    """Executions that took `artifact_id` as an input, oldest first."""
    wanted = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)
    ids = sorted({e.execution_id for e in store.get_events_by_artifact_ids([artifact_id]) if e.type in wanted})
    return store.get_executions_by_id(ids) if ids else []


def execution_run(store: mlmd.MetadataStore, execution_id: int) -> Optional[metadata_store_pb2.Context]:
    """The pipeline run an execution belongs to (cached executions belong to the run that re-used them)."""
    runs = [c for c in store.get_contexts_by_execution(execution_id) if c.type == PIPELINE_RUN]
    return runs[0] if runs else None


def compared_baseline(artifacts: list[metadata_store_pb2.Artifact]) -> list[metadata_store_pb2.Artifact]:
    """The Evaluator's `baseline_model` inputs it actually compared with: ProductionBaseline always
    outputs a Model, with `found` 0 when nothing comparable was in production (older stores, whose
    baseline came from a resolver, have no `found` and were always compared)."""
    return [a for a in artifacts if custom_property(a, "found") in (None, 1)]
