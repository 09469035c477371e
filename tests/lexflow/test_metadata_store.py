"""lexflow/metadata/store.py on a real (in-memory) ML Metadata store."""

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from lexflow.metadata import store as md


def test_one_artifact_consumed_in_two_roles_is_found_under_both_keys():
    # TFX records a model that is both the Evaluator's candidate and its baseline (a cached
    # Trainer whose model was blessed before) as ONE input event whose path names both keys.
    config = pb.ConnectionConfig()
    config.fake_database.SetInParent()
    store = metadata_store.MetadataStore(config)
    model_type = store.put_artifact_type(pb.ArtifactType(name="Model"))
    examples_type = store.put_artifact_type(pb.ArtifactType(name="Examples"))
    model, examples = store.put_artifacts([pb.Artifact(type_id=model_type), pb.Artifact(type_id=examples_type)])
    [execution] = store.put_executions([pb.Execution(type_id=store.put_execution_type(pb.ExecutionType(name="E")))])
    both = pb.Event(artifact_id=model, execution_id=execution, type=pb.Event.INPUT)
    for key in ("baseline_model", "model"):
        both.path.steps.add().key = key
        both.path.steps.add().index = 0
    one = pb.Event(artifact_id=examples, execution_id=execution, type=pb.Event.INPUT)
    one.path.steps.add().key = "examples"
    store.put_events([both, one])
    by_key = {key: [a.id for a in artifacts] for key, artifacts in md.input_artifacts_by_key(store, execution).items()}
    assert by_key == {"baseline_model": [model], "model": [model], "examples": [examples]}
