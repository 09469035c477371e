"""`create_pipeline(config)`: the one definition every runner uses.

ExampleGen (the latest span) -> StatisticsGen -> ImportSchemaGen (curated schema/) -> ExampleValidator
-> DataGate, and DriftCheck (new span vs. the previous one)
-> Transform -> Trainer -> Evaluator (baseline: latest blessed model) -> Pusher,
where Transform, Trainer and Evaluator read the window of spans (corpus + feedback spans) that
a span-window Resolver picks from every span ExampleGen has ingested so far.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401  (TFX imports TensorFlow)

from pathlib import Path
from typing import Any, Optional

from tfx import v1 as tfx
from tfx.dsl.components.base.base_node import BaseNode

from components.data_gate import DataGate
from components.drift_check import DriftCheck, Thresholds
from components.model_pusher import ModelPusher
from core.spans import SPAN_PATTERN, resolve_input_pattern
from pipeline.code_version import code_version
from pipeline.config import PipelineConfig
from pipeline.eval_config import build_eval_config
from pipeline.schema_info import feature_names, label_domain, load_schema
from pipeline.span_window import SpanWindowStrategy

PREPROCESSING_FN = "trainer.preprocessing.preprocessing_fn"
RUN_FN = "trainer.task.run_fn"


def create_example_gen(config: PipelineConfig, span: Optional[int] = None, all_spans: bool = False) -> BaseNode:
    """CsvExampleGen of the latest span, of `span` (how the local runner ingests a backlog), or of
    every span at once (`all_spans`: one Examples artifact, for orchestrators without span resolution)."""
    # A remote data root is not listed at build time: spans are the documented layout there.
    if isinstance(config.data_root, Path):
        pattern = resolve_input_pattern(config.data_root, config.input_pattern)
    else:
        pattern = config.input_pattern or SPAN_PATTERN
    if all_spans:
        pattern = pattern.replace("{SPAN}", "*")
    eval_buckets = max(1, round(config.eval_fraction * 20))
    range_config = None
    if span is not None:
        range_config = tfx.proto.RangeConfig(
            static_range=tfx.proto.StaticRange(start_span_number=span, end_span_number=span)
        )
    return tfx.components.CsvExampleGen(
        input_base=str(config.data_root),
        input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="single", pattern=pattern)]),
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
        range_config=range_config,
    )


def create_components(config: PipelineConfig, span_resolution: bool = True) -> list[BaseNode]:
    """The pipeline's nodes. `span_resolution=False` is for orchestrators that cannot run TFX resolver
    functions (KubeflowV2DagRunner in TFX 1.16 compiles only single channels): ExampleGen then reads
    all spans in one execution, `spans.window` does not apply and DriftCheck has no previous span."""
    if config.schema_path is None:
        raise ValueError("config.schema_path must be set (see lexflow.schema_tools.resolve_schema)")
    schema = load_schema(config.schema_path)
    labels = label_domain(schema)
    slice_features = [f for f in config.slice_features if f in feature_names(schema)]
    # The code fingerprint is in both: an edit under trainer/ re-runs Transform and Trainer.
    fingerprint = code_version()

    example_gen = create_example_gen(config, all_spans=not span_resolution)
    # Every span ingested so far (latest version of each), within the configured window; the
    # Evaluator scores the new model and the baseline on this same data.
    window, previous_span, resolvers = example_gen.outputs["examples"], None, []
    if span_resolution:
        # A plain Channel naming the producer: ExampleGen's outputs of *every* run (its output channel
        # would resolve to this run's output only, i.e. just the newest span).
        ingested = tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.Examples, producer_component_id=example_gen.id, output_key="examples"
        )
        window_resolver = tfx.dsl.Resolver(
            strategy_class=SpanWindowStrategy,
            config={"num_spans": config.spans.window, "min_spans": 1},
            examples=ingested,
        ).with_id("span_window_resolver")
        # The span before the newest one, for DriftCheck; none on the first run.
        previous_resolver = tfx.dsl.Resolver(
            strategy_class=SpanWindowStrategy,
            config={"num_spans": 1, "skip_recent": 1, "min_spans": 0},
            examples=ingested,
        ).with_id("previous_span_resolver")
        for node in (window_resolver, previous_resolver):
            node.add_upstream_node(example_gen)  # this run's span must be ingested first
        resolvers = [window_resolver, previous_resolver]
        window, previous_span = window_resolver.outputs["examples"], previous_resolver.outputs["examples"]
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=str(config.schema_path))
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    data_gate = DataGate(anomalies=example_validator.outputs["anomalies"])
    drift_check = DriftCheck(
        examples=example_gen.outputs["examples"],
        baseline_examples=previous_span,
        thresholds=Thresholds(**config.drift.thresholds()),
        fail_on_drift=config.drift.fail_on_drift,
    )

    transform = tfx.components.Transform(
        examples=window,
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config={**config.transform_custom_config(), "code_version": fingerprint},
    )
    transform.add_upstream_node(data_gate)
    transform.add_upstream_node(drift_check)

    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=config.train.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=config.train.eval_steps),
        custom_config={**config.trainer_custom_config(), "code_version": fingerprint},
    )

    baseline_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")

    evaluator = tfx.components.Evaluator(
        examples=window,
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
        example_gen,
        *resolvers,
        statistics_gen,
        schema_gen,
        example_validator,
        data_gate,
        drift_check,
        transform,
        trainer,
        baseline_resolver,
        evaluator,
        pusher,
    ]


def create_pipeline(
    config: PipelineConfig, metadata_connection_config: Optional[object] = None, span_resolution: bool = True
) -> tfx.dsl.Pipeline:
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=str(config.pipeline_root),
        components=create_components(config, span_resolution=span_resolution),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=_beam_args(config),
    )


def create_ingest_pipeline(
    config: PipelineConfig, span: int, metadata_connection_config: Optional[object] = None
) -> tfx.dsl.Pipeline:
    """Only ExampleGen, for one older span: the same pipeline (name, root, node id), so the span
    joins the ones `rolling_range` resolves. The local runner uses it for spans that were written
    but never ingested (e.g. a feedback export whose pipeline run failed)."""
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=str(config.pipeline_root),
        components=[create_example_gen(config, span=span)],
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=_beam_args(config),
    )


def _beam_args(config: PipelineConfig) -> list[Any]:
    # TFX types the argument as list[str | Placeholder]; ours are plain strings.
    return list(config.beam.pipeline_args())
