"""The lineage graph of a pushed version, walked in MLMD, as tables and a Mermaid drawing
(for notebooks/lineage.ipynb).

`lexflow.lineage` answers the questions (which spans, which evaluation, which versions a span
fed); this module draws the whole provenance: every artifact and execution from the pushed
version back to the data spans, plus the statistics/anomalies/data-gate branch that ran in
the same pipeline run (the gate guards Transform by ordering, not through an artifact, so it
is not on the model's artifact path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import ml_metadata as mlmd
import pandas as pd
from ml_metadata.proto import metadata_store_pb2

from lexflow.metadata import lineage as lin
from lexflow.metadata import store as md

# Evaluated against, not built from: drawn, but its own history is not walked (that would
# pull in every earlier run).
NOT_EXPANDED_ROLES = {"baseline_model"}
# Outputs that are not upstream of the pushed model but belong in its story.
SIDE_OUTPUTS = {"Evaluator": "evaluation"}
DATA_VALIDATION_NODES = ("StatisticsGen", "ExampleValidator", "DataGate")


@dataclass(frozen=True)
class Node:
    key: str  # "a<id>" for artifacts, "e<id>" for executions
    kind: str  # "artifact" | "execution"
    id: int
    type: str  # artifact type name, or the pipeline node id of an execution
    detail: str = ""
    uri: str = ""
    producer: str = ""  # for artifacts: "<node id> #<execution id>"
    producer_id: int = 0  # for artifacts: the producing execution (0: none recorded)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    role: str  # the channel key: "examples", "model", "baseline_model", ...


@dataclass
class LineageGraph:
    root: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add_edge(self, source: str, target: str, role: str) -> None:
        edge = Edge(source, target, role)
        if edge not in self.edges:
            self.edges.append(edge)

    def of_type(self, type_name: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.type == type_name]


# --- nodes ---------------------------------------------------------------------------------


def artifact_detail(
    type_name: str, artifact: metadata_store_pb2.Artifact, store: Optional[mlmd.MetadataStore] = None
) -> str:
    if type_name == "PushedModel":
        if not md.custom_property(artifact, "pushed"):
            return "not pushed"
        return f"version {md.custom_property(artifact, 'pushed_version')}"
    if type_name == "ModelBlessing":
        return "blessed" if md.custom_property(artifact, "blessed") else "NOT blessed"
    if type_name == "ExampleAnomalies" and "blessed" in artifact.custom_properties:
        # ExampleValidator's per-split verdict: 1 = no anomalies in that split.
        splits = artifact.custom_properties["blessed"].struct_value.fields
        bad = sorted(name for name, value in splits.items() if value.number_value != 1)
        return f"anomalies in {', '.join(bad)}" if bad else "no anomalies"
    window = md.spans_of(artifact)
    if len(window) > 1:
        return "spans " + ", ".join(str(s) for s in sorted(window))
    span = md.span_of(artifact, store)
    return "" if span is None else f"span {span}"


def _artifact_node(store: mlmd.MetadataStore, artifact: metadata_store_pb2.Artifact, pipeline_name: str) -> Node:
    type_name = md.artifact_type_name(store, artifact)
    producer = md.producer_execution(store, artifact.id)
    made_by = f"{md.node_id_of(store, producer.id, pipeline_name)} #{producer.id}" if producer else ""
    return Node(
        f"a{artifact.id}",
        "artifact",
        artifact.id,
        type_name,
        artifact_detail(type_name, artifact, store),
        artifact.uri,
        made_by,
        producer.id if producer else 0,
    )


def _execution_node(store: mlmd.MetadataStore, execution: metadata_store_pb2.Execution, pipeline_name: str) -> Node:
    return Node(
        f"e{execution.id}",
        "execution",
        execution.id,
        md.node_id_of(store, execution.id, pipeline_name),
        md.state_name(execution).lower(),
    )


# --- walking -------------------------------------------------------------------------------


def _walk_upstream(
    store: mlmd.MetadataStore, graph: LineageGraph, start: metadata_store_pb2.Artifact, pipeline_name: str
) -> None:
    """Artifact <- producing execution <- its inputs <- ..., until artifacts nothing produced."""
    pending = [start]
    while pending:
        artifact = pending.pop()
        key = f"a{artifact.id}"
        if key in graph.nodes:
            continue
        graph.nodes[key] = _artifact_node(store, artifact, pipeline_name)
        producer = md.producer_execution(store, artifact.id)
        if producer is None:
            continue
        graph.add_edge(f"e{producer.id}", key, "output")
        if f"e{producer.id}" in graph.nodes:
            continue
        graph.nodes[f"e{producer.id}"] = _execution_node(store, producer, pipeline_name)
        side_output = SIDE_OUTPUTS.get(graph.nodes[f"e{producer.id}"].type)
        for output in md.output_artifacts(store, producer.id, side_output) if side_output else []:
            graph.nodes.setdefault(f"a{output.id}", _artifact_node(store, output, pipeline_name))
            graph.add_edge(f"e{producer.id}", f"a{output.id}", "output")
        for role, inputs in md.input_artifacts_by_key(store, producer.id).items():
            # A baseline the Evaluator did not compare with (nothing comparable in production) is not drawn.
            for source in md.compared_baseline(inputs) if role in NOT_EXPANDED_ROLES else inputs:
                graph.add_edge(f"a{source.id}", f"e{producer.id}", role)
                if role in NOT_EXPANDED_ROLES:
                    graph.nodes.setdefault(f"a{source.id}", _artifact_node(store, source, pipeline_name))
                else:
                    pending.append(source)


def _add_execution(
    store: mlmd.MetadataStore, graph: LineageGraph, execution: metadata_store_pb2.Execution, pipeline_name: str
) -> None:
    """One execution with its direct inputs and outputs (no further walking)."""
    key = f"e{execution.id}"
    graph.nodes.setdefault(key, _execution_node(store, execution, pipeline_name))
    for role, inputs in md.input_artifacts_by_key(store, execution.id).items():
        for artifact in inputs:
            graph.nodes.setdefault(f"a{artifact.id}", _artifact_node(store, artifact, pipeline_name))
            graph.add_edge(f"a{artifact.id}", key, role)
    for artifact in md.output_artifacts(store, execution.id):
        graph.nodes.setdefault(f"a{artifact.id}", _artifact_node(store, artifact, pipeline_name))
        graph.add_edge(key, f"a{artifact.id}", "output")


def _add_data_validation(
    store: mlmd.MetadataStore, graph: LineageGraph, transform_execution_id: int, pipeline_name: str
) -> None:
    run = md.execution_run(store, transform_execution_id)
    if run is None:
        return
    for execution in store.get_executions_by_context(run.id):
        if md.node_id_of(store, execution.id, pipeline_name) in DATA_VALIDATION_NODES:
            _add_execution(store, graph, execution, pipeline_name)


def pushed_model_artifact(store: mlmd.MetadataStore, info: lin.VersionLineage) -> metadata_store_pb2.Artifact:
    return md.output_artifacts(store, info.pusher_execution, "pushed_model")[0]


def version_graph(
    store: mlmd.MetadataStore, version: Optional[str] = None, pipeline_name: str = "lexflow"
) -> tuple[lin.VersionLineage, LineageGraph]:
    """The provenance of a pushed version (default: the newest), with its data-validation branch."""
    info = lin.version_lineage(store, version)
    pushed = pushed_model_artifact(store, info)
    graph = LineageGraph(root=f"a{pushed.id}")
    _walk_upstream(store, graph, pushed, pipeline_name)
    transforms = [n for n in graph.nodes.values() if n.kind == "execution" and n.type == "Transform"]
    for transform in transforms:
        _add_data_validation(store, graph, transform.id, pipeline_name)
    return info, graph


# --- presenting ----------------------------------------------------------------------------

# Tie-break between nodes the edges leave unordered: execution order (MLMD ids grow with
# time), then, between siblings such as an Evaluator's evaluation and blessing, the story order.
TYPE_ORDER = [
    "Examples",
    "ExampleStatistics",
    "Schema",
    "ExampleAnomalies",
    "TransformGraph",
    "Model",
    "ModelEvaluation",
    "ModelBlessing",
    "PushedModel",
]


def topological_order(graph: LineageGraph) -> list[str]:
    """Data first, pushed version last."""

    def rank(key: str) -> tuple[int, int, int, int]:
        node = graph.nodes[key]
        if node.kind == "execution":
            return (node.id, 0, 0, 0)
        type_rank = TYPE_ORDER.index(node.type) if node.type in TYPE_ORDER else len(TYPE_ORDER)
        return (node.producer_id, 1, type_rank, node.id)

    indegree = dict.fromkeys(graph.nodes, 0)
    for edge in graph.edges:
        indegree[edge.target] += 1
    ready = sorted((k for k, d in indegree.items() if d == 0), key=rank)
    order = []
    while ready:
        key = ready.pop(0)
        order.append(key)
        for edge in graph.edges:
            if edge.source == key:
                indegree[edge.target] -= 1
                if indegree[edge.target] == 0:
                    ready.append(edge.target)
        ready.sort(key=rank)
    return order


STAGE_NAMES = {
    "Schema": "schema",
    "ExampleStatistics": "statistics",
    "ExampleAnomalies": "anomalies (data gate input)",
    "TransformGraph": "transform graph",
    "Model": "model",
    "ModelEvaluation": "evaluation",
    "ModelBlessing": "blessing",
    "PushedModel": "pushed version",
}


def stage_name(node: Node, role: Optional[str] = None) -> str:
    if role == "baseline_model":
        return "baseline model (compared with)"
    if node.type == "Examples":
        # ExampleGen's output carries the span; Transform's output does not.
        return "data span" if node.detail.startswith("span") else "transformed examples"
    return STAGE_NAMES.get(node.type, node.type)


def stages(graph: LineageGraph) -> pd.DataFrame:
    """One row per artifact, in lineage order: what it is, which execution made it, where it is."""
    roles = {}
    for edge in graph.edges:
        if edge.role in NOT_EXPANDED_ROLES:
            roles[edge.source] = edge.role
    rows = []
    for key in topological_order(graph):
        node = graph.nodes[key]
        if node.kind != "artifact":
            continue
        rows.append(
            {
                "stage": stage_name(node, roles.get(key)),
                "artifact": f"{node.type} #{node.id}",
                "detail": node.detail,
                "produced by": node.producer,
                "uri": node.uri,
            }
        )
    return pd.DataFrame(rows, columns=["stage", "artifact", "detail", "produced by", "uri"])


def _mermaid_label(node: Node) -> str:
    text = f"{node.type} #{node.id}" + (f"<br/>{node.detail}" if node.detail else "")
    return text.replace('"', "'")


def to_mermaid(graph: LineageGraph) -> str:
    """A Mermaid flowchart: artifacts rounded, executions square, the baseline edge dashed."""
    lines = ["flowchart LR"]
    for key in topological_order(graph):
        node = graph.nodes[key]
        label = _mermaid_label(node)
        lines.append(f'    {key}("{label}")' if node.kind == "artifact" else f'    {key}["{label}"]')
    for edge in graph.edges:
        if edge.role in NOT_EXPANDED_ROLES:
            lines.append(f"    {edge.source} -. {edge.role} .-> {edge.target}")
        else:
            lines.append(f"    {edge.source} --> {edge.target}")
    lines.append(f"    style {graph.root} stroke-width:3px")
    return "\n".join(lines)


def version_summary(info: lin.VersionLineage) -> pd.DataFrame:
    """`lexflow lineage VERSION` as a two-column table."""
    rows = [
        ("version", info.version),
        ("served from", info.served_path),
        ("data spans", ", ".join(map(str, info.spans))),
        ("examples", "; ".join(info.examples_uris)),
        ("schema", info.schema_uri),
        ("transform graph", info.transform_graph_uri),
        ("model", f"{info.model_uri} (Trainer execution {info.trainer_execution})"),
        ("evaluation", info.evaluation_uri or "-"),
        ("blessed", str(info.blessed)),
        ("baseline model", info.baseline_model_uri or "none (first blessed model)"),
        ("pushed by", f"Pusher execution {info.pusher_execution}"),
    ]
    return pd.DataFrame(rows, columns=["", "value"]).set_index("")


def pushed_versions(store: mlmd.MetadataStore) -> pd.DataFrame:
    """Every pushed version, newest first: its spans, model, and the model it was compared with."""
    versions = {
        str(md.custom_property(a, "pushed_version"))
        for a in store.get_artifacts_by_type("PushedModel")
        if md.custom_property(a, "pushed")
    }
    rows = []
    for version in sorted(versions, key=lambda v: int(v) if v.isdigit() else 0, reverse=True):
        info = lin.version_lineage(store, version)
        rows.append(
            {
                "version": info.version,
                "spans": ", ".join(map(str, info.spans)),
                "model": info.model_uri,
                "compared with": _baseline_of_push(store, info.pusher_execution) or "- (first blessed model)",
            }
        )
    return pd.DataFrame(rows, columns=["version", "spans", "model", "compared with"])


def _baseline_of_push(store: mlmd.MetadataStore, pusher_execution_id: int) -> Optional[str]:
    """The baseline of the Evaluator whose blessing the Pusher consumed (that exact evaluation)."""
    blessings = md.input_artifacts(store, pusher_execution_id, "model_blessing")
    evaluator = md.producer_execution(store, blessings[0].id) if blessings else None
    baseline = md.compared_baseline(md.input_artifacts(store, evaluator.id, "baseline_model")) if evaluator else []
    return baseline[0].uri if baseline else None


def spans(store: mlmd.MetadataStore, only: Optional[int] = None) -> pd.DataFrame:
    """Each data span ExampleGen ingested, its Examples artifacts, and the versions it fed."""
    by_span: dict[int, list] = {}
    for artifact in store.get_artifacts_by_type("Examples"):
        # ExampleGen's outputs record their spans (a window holds several); transformed examples do not.
        if "spans" not in artifact.custom_properties and "span" not in artifact.custom_properties:
            continue
        for span in md.spans_of(artifact):
            if span >= 0 and (only is None or span == only):
                by_span.setdefault(span, []).append(artifact)
    rows = []
    for span, artifacts in sorted(by_span.items()):
        rows.append(
            {
                "span": span,
                "examples artifacts": ", ".join(f"#{a.id}" for a in artifacts),
                "versions fed": ", ".join(lin.versions_fed_by_span(store, span)) or "none",
                "uri": "; ".join(a.uri for a in artifacts),
            }
        )
    return pd.DataFrame(rows, columns=["span", "examples artifacts", "versions fed", "uri"])
