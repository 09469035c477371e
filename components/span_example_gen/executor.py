"""Executor of SpanExampleGen: resolve the window of spans, read its CSVs, split, write Examples."""

from __future__ import annotations

import json
import os
from typing import Any

import apache_beam as beam
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from components import gfile
from components.span_example_gen import window as w
from components.span_example_gen.spec import (
    EVAL_PERCENT_KEY,
    EXAMPLES_KEY,
    INPUT_BASE_KEY,
    INPUT_PATTERN_KEY,
    MIN_TRAIN_ROWS_KEY,
    NEWEST_KEY,
    PREVIOUS_KEY,
    WINDOW_KEY,
)

SPAN_FIELD = "__span__"
SUMMARY_FILE = "label_counts.json"


def resolve_window(input_base: str, pattern: str, window: int) -> w.Window:
    """The spans to read, listed where the data lives (local folder or bucket)."""
    base = input_base.rstrip("/")
    found = gfile.glob(f"{base}/{pattern.replace('{SPAN}', '*')}")
    relative = [path[len(base) + 1 :] for path in found if not fileio.isdir(path)]
    spans = w.find_spans(relative, pattern)
    if not spans:
        raise FileNotFoundError(f"data root {input_base}: no CSV files match '{pattern}'")
    return w.select_window(spans, window)


def read_span_file(item: tuple[str, int, str]) -> list[dict[str, str]]:
    path, span, name = item
    return w.parse_rows(gfile.read_text(path).splitlines(keepends=True), name, span)


def to_example(row: dict[str, str]) -> tf.train.Example:
    features = {
        key: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8", "surrogatepass")]))
        for key, value in row.items()
        if not key.startswith("__")
    }
    return tf.train.Example(features=tf.train.Features(feature=features))


class Executor(base_beam_executor.BaseBeamExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        base = str(exec_properties[INPUT_BASE_KEY]).rstrip("/")
        found = resolve_window(base, exec_properties[INPUT_PATTERN_KEY], int(exec_properties[WINDOW_KEY]))
        eval_percent = int(exec_properties[EVAL_PERCENT_KEY])
        keep = int(exec_properties[MIN_TRAIN_ROWS_KEY])
        outputs = {
            key: artifact_utils.get_single_instance(output_dict[key])
            for key in (EXAMPLES_KEY, NEWEST_KEY, PREVIOUS_KEY)
        }
        spans_of = {EXAMPLES_KEY: set(found.files), NEWEST_KEY: {found.newest}, PREVIOUS_KEY: {found.previous}}
        in_window = {str(s) for s in found.files}
        files = [(f"{base}/{name}", span, name) for span, name in found.files_to_read()]
        summary_path = os.path.join(outputs[EXAMPLES_KEY].uri, SUMMARY_FILE)
        for artifact in outputs.values():
            artifact.split_names = artifact_utils.encode_split_names(list(w.SPLITS))

        with self._make_beam_pipeline() as pipeline:
            rows = (
                pipeline
                | "Files" >> beam.Create(files)
                | "Read" >> beam.FlatMap(read_span_file)
                | "Hash" >> beam.Map(lambda row: (w.row_hash(row), row))
            )
            floors = (
                rows
                | "InWindow" >> beam.Filter(lambda hashed: hashed[1][SPAN_FIELD] in in_window)
                | "ByLabel" >> beam.Map(lambda hashed: (hashed[1].get("label", ""), hashed[0]))
                | "FirstRows" >> beam.combiners.Top.SmallestPerKey(max(keep, 1))
                | "Floor" >> beam.Map(lambda kv: (kv[0], max(kv[1])))
            )
            split = rows | "Split" >> beam.Map(
                lambda hashed, floors: (
                    w.assign_split(hashed[0], floors.get(hashed[1].get("label", ""), -1), eval_percent),
                    hashed[1],
                ),
                floors=beam.pvalue.AsDict(floors),
            )
            for key, artifact in outputs.items():
                wanted = {str(s) for s in spans_of[key]}
                for split_name in w.SPLITS:
                    (
                        split
                        | f"Select[{key}][{split_name}]"
                        >> beam.Filter(lambda kv, s=split_name, spans=wanted: kv[0] == s and kv[1][SPAN_FIELD] in spans)
                        | f"ToExample[{key}][{split_name}]" >> beam.Map(lambda kv: to_example(kv[1]))
                        | f"Write[{key}][{split_name}]"
                        >> write_split.WriteSplit(artifact_utils.get_split_uri([artifact], split_name), "")
                    )
            _ = (
                split
                | "CountWindow" >> beam.Filter(lambda kv: kv[1][SPAN_FIELD] in in_window)
                | "Count" >> beam.Map(lambda kv: ((kv[1].get("label", ""), kv[0]), None))
                | "CountPerLabel" >> beam.combiners.Count.PerKey()
                | "All" >> beam.combiners.ToList()
                | "Json" >> beam.Map(lambda counts: json.dumps(sorted([k[0], k[1], n] for k, n in counts)))
                | "WriteCounts" >> beam.io.WriteToText(summary_path, shard_name_template="")
            )
        self._record(outputs, found, summary_path)

    @staticmethod
    def _record(outputs: dict[str, types.Artifact], found: w.Window, summary_path: str) -> None:
        counts: dict[str, dict[str, int]] = {}
        with fileio.open(summary_path, "r") as handle:
            for label, split_name, n in json.loads(handle.read() or "[]"):
                counts.setdefault(label, {}).setdefault(split_name, n)
        spans_of = {EXAMPLES_KEY: found.spans, NEWEST_KEY: [found.newest], PREVIOUS_KEY: [found.previous]}
        for key, artifact in outputs.items():
            examples_utils.set_payload_format(artifact, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
            span = spans_of[key][0]
            artifact.span = max(span, 0)
            artifact.set_int_custom_property("span", span)
            artifact.set_string_custom_property("spans", ",".join(str(s) for s in spans_of[key] if s != w.NO_SPAN))
        window = outputs[EXAMPLES_KEY]
        window.set_string_custom_property("label_counts", json.dumps(counts, sort_keys=True))
        single = sorted(label for label, by_split in counts.items() if sum(by_split.values()) == 1)
        window.set_string_custom_property("single_row_labels", ",".join(single))
        window.set_int_custom_property("rows", sum(sum(by_split.values()) for by_split in counts.values()))
