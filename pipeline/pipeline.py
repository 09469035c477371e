"""`create_pipeline(config)`: the one definition every runner uses.

ExampleGen -> StatisticsGen -> ImportSchemaGen (curated schema/) -> ExampleValidator -> DataGate
-> Transform -> Trainer -> Evaluator (baseline: latest blessed model) -> Pusher.
"""
from __future__ import annotations

from typing import Optional

from trainer import tf_env  # noqa: F401  (TFX imports TensorFlow)

from tfx import v1 as tfx
from tfx.dsl.components.base.base_node import BaseNode

from components.data_gate import DataGate
from components.model_pusher import ModelPusher
from pipeline.code_version import code_version
from pipeline.config import PipelineConfig
from pipeline.data_layout import resolve_input_pattern
from pipeline.eval_config import build_eval_config
from pipeline.schema_info import feature_names, label_domain, load_schema

PREPROCESSING_FN = "trainer.preprocessing.preprocessing_fn"
RUN_FN = "trainer.task.run_fn"


def create_components(config: PipelineConfig) -> list[BaseNode]:
    if config.schema_path is None:
        raise ValueError("config.schema_path must be set (see lexflow.schema_tools.resolve_schema)")
    schema = load_schema(config.schema_path)
    labels = label_domain(schema)
    slice_features = [f for f in config.slice_features if f in feature_names(schema)]
    module_config = {**config.module_custom_config(), "code_version": code_version()}

    eval_buckets = max(1, round(config.eval_fraction * 20))
    example_gen = tfx.components.CsvExampleGen(
        input_base=str(config.data_root),
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single", pattern=resolve_input_pattern(config.data_root, config.input_pattern))]
        ),
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[
                    tfx.proto.SplitConfig.Split(name="train", hash_buckets=20 - eval_buckets),
                    tfx.proto.SplitConfig.Split(name="eval", hash_buckets=eval_buckets),
                ]
                # Hashing whole examples keeps exact duplicates on one side. Not partitioning
                # by `text`: a file without that column must reach the data gate, not crash here.
            )
        ),
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=str(config.schema_path))
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    data_gate = DataGate(anomalies=example_validator.outputs["anomalies"])

    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=module_config,
    )
    transform.add_upstream_node(data_gate)

    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=config.train.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=config.train.eval_steps),
        custom_config=module_config,
    )

    baseline_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")

    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline_resolver.outputs["model"],
        eval_config=build_eval_config(len(labels), config.thresholds, slice_features),
    )

    pusher = ModelPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(config.model_base_dir))
        ),
    ).with_id("Pusher")
    return [
        example_gen, statistics_gen, schema_gen, example_validator, data_gate,
        transform, trainer, baseline_resolver, evaluator, pusher,
    ]


def create_pipeline(config: PipelineConfig, metadata_connection_config: Optional[object] = None) -> tfx.dsl.Pipeline:
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=str(config.pipeline_root),
        components=create_components(config),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=config.beam.pipeline_args(),
    )
