"""`lexflow lineage`: what produced a served version, and which versions a span fed (from MLMD)."""

from __future__ import annotations

from typing import Optional

import typer

from core import workspace
from core.errors import UserError
from lexflow.cli import options as opt
from lexflow.cli.common import console, fail
from lexflow.cli.model import announce, served_model


def lineage(
    version: Optional[str] = typer.Argument(None, help="Served version (default: the newest pushed)."),
    span: Optional[int] = typer.Option(None, help="Instead: which versions did this data span feed?"),
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    metadata_path: opt.MetadataPath = None,
) -> None:
    """Trace a served version to its spans, schema, transform graph, trainer run and evaluation."""
    from lexflow.metadata import lineage as lin
    from lexflow.metadata.store import open_store

    model = served_model(model_name, data_root)
    announce(model, store=False)
    try:
        store = open_store(metadata_path or workspace.resolve(workspace.metadata_path(model.name)))
        if span is not None:
            versions = lin.versions_fed_by_span(store, span)
            console.print(f"span {span} fed versions: {', '.join(versions) or 'none'}")
            return
        info = lin.version_lineage(store, version)
    except UserError as exc:
        raise fail(str(exc)) from None
    console.print(f"version {info.version}  (served from {info.served_path})")
    console.print(f"  model            {info.model_uri}  (Trainer execution {info.trainer_execution})")
    console.print(f"  transform graph  {info.transform_graph_uri}")
    console.print(f"  schema           {info.schema_uri}")
    console.print(f"  data spans       {', '.join(map(str, info.spans))}  ({'; '.join(info.examples_uris)})")
    console.print(f"  evaluation       {info.evaluation_uri}  blessed={info.blessed}")
    console.print(f"  baseline model   {info.baseline_model_uri or 'none (first blessed model)'}")
    for span_number, uri in sorted(info.statistics.items()):
        console.print(f"  statistics, span {span_number:<4} {uri}", soft_wrap=True)
    for span_number, summary in sorted(info.drift.items()):
        console.print(f"  drift, span {span_number:<4} {summary}", soft_wrap=True)
