"""`create_pipeline(config)`: the one definition every runner uses, with no runner-dependent branch.

SpanExampleGen (the window of spans: corpus + feedback) -> StatisticsGen -> ImportSchemaGen (curated
schema/) -> ExampleValidator -> DataGate, and DriftCheck (newest span vs. the previous one)
-> Transform -> ModelSearch (TFX's Tuner: model family and regularisation chosen on the validation split)
-> Trainer (the choice refitted on train + validation)
-> ProductionBaseline (the model in production, from the model base dir)
-> ModelEvaluator (thresholds, and no regression against that baseline) -> ModelPusher.

No TFX resolver and no ExampleGen driver is needed for spans or the baseline, so the local run and
the compiled Kubeflow spec have the same nodes and edges (the open-source KFP backend runs neither
resolvers nor ExampleGen's pre-cache driver; see docs/kubeflow.md).
"""

from __future__ import annotations

import core.tf_env  # noqa: F401  (TFX imports TensorFlow)

from pathlib import Path
from typing import Any, Optional

from tfx import v1 as tfx
from tfx.dsl.components.base.base_node import BaseNode

from components.data_gate import DataGate
from components.drift_check import DriftCheck, Thresholds
from components.model_evaluator import ModelEvaluator
from components.model_pusher import ALLOW_LABEL_CHANGE, ModelPusher
from components.model_search import ModelSearch
from components.production_baseline import ProductionBaseline
from components.schema_import import ImportSchemaGen
from components.span_example_gen import SpanExampleGen
from core.spans import SPAN_PATTERN, resolve_input_pattern
from pipeline.code_version import code_version
from pipeline.config import PipelineConfig
from pipeline.eval_config import build_eval_config
from pipeline.schema_info import feature_names, label_domain, load_schema

PREPROCESSING_FN = "trainer.preprocessing.preprocessing_fn"
RUN_FN = "trainer.task.run_fn"
TUNER_FN = "trainer.tuning.tuner_fn"
# The vocabulary, idf and label counts come from every row the final model trains on (train +
# validation; no labels are learnt there); the eval split stays outside, as the Evaluator's alone.
TRANSFORM_SPLITS = tfx.proto.SplitsConfig(analyze=["train", "validation"], transform=["train", "validation", "eval"])
# The search's trials and the Trainer's first fit learn from train and are scored on validation.
FIT_SPLITS, SCORE_SPLITS = ["train"], ["validation"]
# Nodes that read or write what their inputs do not name, so no orchestrator's cache may answer for
# them: ExampleGen lists the data root's files, ProductionBaseline reads the model base dir (routing.json,
# the versions), the Pusher writes it. Compiled for Kubeflow they are never cached and take the run's id
# (lexflow/runs/kubeflow/caching.py); locally ExampleGen's driver fingerprints its files, and the other two
# run again whenever the model they take is new, which it is once anything upstream changed.
RUN_EVERY_TIME = ("ExampleGen", "ProductionBaseline", "Pusher")


def input_pattern(config: PipelineConfig) -> str:
    """The glob ExampleGen reads; a remote data root is not listed at build time (spans assumed)."""
    if isinstance(config.data_root, Path):
        return resolve_input_pattern(config.data_root, config.input_pattern)
    return config.input_pattern or SPAN_PATTERN


def create_components(config: PipelineConfig) -> list[BaseNode]:
    if config.schema_path is None:
        raise ValueError("config.schema_path must be set (see lexflow.runs.schemas.resolve_schema)")
    schema = load_schema(config.schema_path)
    # The code fingerprint is in both: an edit under trainer/ re-runs Transform and Trainer.
    fingerprint = code_version()
    data = _data_nodes(config, config.schema_path)
    training = _training_nodes(config, data, fingerprint)
    release = _release_nodes(config, data, training[-1], schema)
    return [*data, *training, *release]


def _data_nodes(config: PipelineConfig, schema_path: Path) -> list[BaseNode]:
    """ExampleGen -> StatisticsGen, ImportSchemaGen -> ExampleValidator -> DataGate; DriftCheck."""
    example_gen = SpanExampleGen(
        input_base=str(config.data_root),
        input_pattern=input_pattern(config),
        window=config.spans.window,
        eval_percent=round(config.eval_fraction * 100),
        validation_percent=round(config.validation_fraction * 100),
    ).with_id("ExampleGen")
    window = example_gen.outputs["examples"]
    statistics_gen = tfx.components.StatisticsGen(examples=window)
    schema_gen = ImportSchemaGen(schema_file=str(schema_path))  # keyed on the file's content too
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    data_gate = DataGate(anomalies=example_validator.outputs["anomalies"])
    drift_check = DriftCheck(
        examples=example_gen.outputs["newest_examples"],
        baseline_examples=example_gen.outputs["previous_examples"],
        thresholds=Thresholds(**config.drift.thresholds()),
        fail_on_drift=config.drift.fail_on_drift,
    )
    return [example_gen, statistics_gen, schema_gen, example_validator, data_gate, drift_check]


def _training_nodes(config: PipelineConfig, data: list[BaseNode], fingerprint: str) -> list[BaseNode]:
    """Transform -> [ModelSearch] -> Trainer (the Trainer last)."""
    example_gen, _, schema_gen, _, data_gate, drift_check = data
    schema = schema_gen.outputs["schema"]
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema,
        preprocessing_fn=PREPROCESSING_FN,
        splits_config=TRANSFORM_SPLITS,
        custom_config={**config.transform_custom_config(), "code_version": fingerprint},
        # The pre/post-transform statistics, schemas and anomalies are read by no component or report
        # (StatisticsGen and ExampleValidator check the raw data); computing them cost TFDV passes over
        # every split.
        disable_statistics=True,
    )
    transform.add_upstream_node(data_gate)
    transform.add_upstream_node(drift_check)
    examples, graph = transform.outputs["transformed_examples"], transform.outputs["transform_graph"]

    # The model search (on by default) picks family and regularisation on the validation split; with
    # `tuning.enabled: false` the Trainer trains `config.train` as given (explicit settings win), and
    # with an encoder it trains the encoder as `config.encoder` says (no search).
    search = None
    if config.runs_model_search():
        search = ModelSearch(
            tuner_fn=TUNER_FN,
            examples=examples,
            transform_graph=graph,
            schema=schema,
            train_args=tfx.proto.TrainArgs(splits=FIT_SPLITS, num_steps=config.train.train_steps),
            eval_args=tfx.proto.EvalArgs(splits=SCORE_SPLITS, num_steps=config.train.eval_steps),
            custom_config={**config.search_custom_config(), "code_version": fingerprint},
        ).with_id("ModelSearch")

    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=examples,
        transform_graph=graph,
        schema=schema,
        hyperparameters=search.outputs["best_hyperparameters"] if search else None,
        # run_fn refits on train + validation (trainer/task.py); an encoder trains on train only.
        train_args=tfx.proto.TrainArgs(splits=FIT_SPLITS, num_steps=config.train_and_eval_steps()[0]),
        eval_args=tfx.proto.EvalArgs(splits=SCORE_SPLITS, num_steps=config.train_and_eval_steps()[1]),
        custom_config={**config.trainer_custom_config(), "code_version": fingerprint},
    )
    return [transform, *([search] if search else []), trainer]


def _release_nodes(config: PipelineConfig, data: list[BaseNode], trainer: BaseNode, schema: Any) -> list[BaseNode]:
    """ProductionBaseline -> Evaluator (the blessing) -> Pusher, all on this model's directory."""
    labels = label_domain(schema)
    slice_features = [f for f in config.slice_features if f in feature_names(schema)]
    model = trainer.outputs["model"]
    baseline = ProductionBaseline(model=model, model_dir=str(config.model_dir)).with_id("ProductionBaseline")
    evaluator = ModelEvaluator(
        examples=data[0].outputs["examples"],
        model=model,
        baseline_model=baseline.outputs["baseline_model"],
        eval_config=build_eval_config(len(labels), config.thresholds, slice_features),
    ).with_id("Evaluator")
    pusher = ModelPusher(
        model=model,
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(config.model_dir))
        ),
        custom_config={ALLOW_LABEL_CHANGE: config.allow_label_change},
    ).with_id("Pusher")
    return [baseline, evaluator, pusher]


def create_pipeline(config: PipelineConfig, metadata_connection_config: Optional[object] = None) -> tfx.dsl.Pipeline:
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=str(config.pipeline_root),
        components=create_components(config),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=_beam_args(config),
    )


def _beam_args(config: PipelineConfig) -> list[Any]:
    # TFX types the argument as list[str | Placeholder]; ours are plain strings.
    return list(config.beam.pipeline_args())
