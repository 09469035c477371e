"""ImportSchemaGen re-imports an edited schema file: its content is part of the cache key."""

import core.tf_env  # noqa: F401

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(schema: Path, root: Path):
    """A one-node pipeline (no Beam, a second or two) with caching on; returns (state, imported text)."""
    from tfx import v1 as tfx

    from components.schema_import import ImportSchemaGen
    from lexflow.metadata import store as md

    metadata = root / "m.sqlite"
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="schema-import",
        pipeline_root=str(root / "p"),
        components=[ImportSchemaGen(schema_file=str(schema))],
        enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(str(metadata)),
    )
    tfx.orchestration.LocalDagRunner().run(pipeline)
    store = md.open_store(metadata)
    from ml_metadata.proto import metadata_store_pb2

    [execution] = md.node_executions(store, "schema-import", "ImportSchemaGen")[-1:]
    [artifact] = md.output_artifacts(store, execution.id, "schema")
    state = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
    return state, (Path(artifact.uri) / "schema.pbtxt").read_text()


def test_an_edited_schema_is_imported_again_and_an_unchanged_one_is_cached(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    original = (REPO / "schema" / "demo" / "schema.pbtxt").read_text()
    schema.write_text(original)
    assert _run(schema, tmp_path) == ("COMPLETE", original)
    assert _run(schema, tmp_path)[0] == "CACHED"
    edited = original.replace('value: "warranties"', 'value: "warranties"\n    value: "waiver"')
    schema.write_text(edited)  # same path, new content: as a reviewer edits a curated schema
    assert _run(schema, tmp_path) == ("COMPLETE", edited)
