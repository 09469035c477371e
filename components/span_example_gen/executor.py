"""Executor of SpanExampleGen: resolve the window of spans, read its CSVs, split, write Examples.

The split (train / validation / eval) is window.py's `plan_splits`, as one Beam graph: the split each
document was given (a document given both train and eval stops the run), every label's floor (its
first units on the training side), the documents those floors force into train, then each row's split.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
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
    VALIDATION_PERCENT_KEY,
    WINDOW_KEY,
)
from core import splits as user_splits
from core.spans import with_split_folders

SPAN_FIELD = w.SPAN_FIELD
SUMMARY_FILE = "label_counts.json"


def resolve_window(input_base: str, pattern: str, window: int) -> w.Window:
    """The spans to read, listed where the data lives (local folder or bucket); a span's train/ and
    eval/ folders belong to it (core/spans.py)."""
    base = input_base.rstrip("/")
    globs = [f"{base}/{glob.replace('{SPAN}', '*')}" for glob in with_split_folders(pattern)]
    found = [path for glob in globs for path in gfile.glob(glob)]
    relative = [path[len(base) + 1 :] for path in found if not fileio.isdir(path)]
    spans = w.find_spans(relative, pattern)
    if not spans:
        raise FileNotFoundError(f"data root {input_base}: no CSV files match '{pattern}'")
    return w.select_window(spans, window)


def read_span_file(item: tuple[str, int, str]) -> list[dict[str, str]]:
    path, span, name = item
    return w.parse_rows(gfile.read_text(path).splitlines(keepends=True), path, span, relative=name)


def to_example(row: dict[str, str]) -> tf.train.Example:
    features = {
        key: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8", "surrogatepass")]))
        for key, value in row.items()
        if not key.startswith("__")
    }
    return tf.train.Example(features=tf.train.Features(feature=features))


def _documented(hashed: tuple[int, dict[str, str]]) -> bool:
    return user_splits.document_of(hashed[1]) is not None


class FirstPlaces(beam.CombineFn):
    """Per document: the first row (file, row number) given each split."""

    def create_accumulator(self) -> dict[str, tuple[user_splits.Where, str]]:
        return {}

    def add_input(
        self, places: dict[str, tuple[user_splits.Where, str]], item: tuple[str, tuple[user_splits.Where, str]]
    ) -> dict[str, tuple[user_splits.Where, str]]:
        given, place = item
        places[given] = min(places.get(given, place), place)
        return places

    def merge_accumulators(
        self, accumulators: Iterable[dict[str, tuple[user_splits.Where, str]]]
    ) -> dict[str, tuple[user_splits.Where, str]]:
        merged: dict[str, tuple[user_splits.Where, str]] = {}
        for places in accumulators:
            for given, place in places.items():
                merged[given] = min(merged.get(given, place), place)
        return merged

    def extract_output(
        self, places: dict[str, tuple[user_splits.Where, str]]
    ) -> dict[str, tuple[user_splits.Where, str]]:
        return places


def _document_split(item: tuple[int, dict[str, tuple[user_splits.Where, str]]]) -> tuple[int, str]:
    """(document hash, the split its rows were given); a document given both is a SplitError."""
    document, places = item
    if len(places) > 1:
        (train, name), (eval_, _) = places[user_splits.TRAIN], places[user_splits.EVAL]
        raise user_splits.conflict(name, train, eval_)
    return document, next(iter(places))


def _check_eval_only(item: tuple[str, user_splits.Where], floors: dict[str, int]) -> None:
    label, place = item
    if label not in floors:
        raise user_splits.eval_only(label, place)


def _given_document_splits(rows: beam.PCollection) -> beam.PCollection:
    """(document hash, split) for every document whose rows were given a split."""
    return (
        rows
        | "Given" >> beam.Filter(lambda hashed: _documented(hashed) and w.given_split(hashed[1]) is not None)
        | "DocumentPlace"
        >> beam.Map(
            lambda hashed: (
                hashed[0],
                (w.given_split(hashed[1]), (w.where(hashed[1]), user_splits.document_of(hashed[1]) or "")),
            )
        )
        | "FirstPlaces" >> beam.CombinePerKey(FirstPlaces())
        | "DocumentSplit" >> beam.Map(_document_split)
    )


def _split(
    rows: beam.PCollection, in_window: set[str], eval_percent: int, validation_percent: int, keep: int
) -> beam.PCollection:
    """(split, row) for every (unit hash, row): window.plan_splits as a Beam graph."""
    windowed = rows | "InWindow" >> beam.Filter(lambda hashed: hashed[1][SPAN_FIELD] in in_window)
    documents = beam.pvalue.AsDict(_given_document_splits(rows))
    training_side = windowed | "TrainingSide" >> beam.Filter(
        lambda hashed, documents: w.effective_split(hashed[1], documents) != w.EVAL, documents=documents
    )
    label_units = (
        training_side
        | "DocumentUnits" >> beam.Filter(_documented)
        | "DocumentLabel" >> beam.Map(_label_unit)
        | "OncePerDocument" >> beam.Distinct()
    )
    label_rows = (
        training_side
        | "RowUnits" >> beam.Filter(lambda hashed: not _documented(hashed))
        | "RowLabel" >> beam.Map(_label_unit)
    )
    floors = beam.pvalue.AsDict(  # label -> its k-th smallest unit hash on the training side (window.label_floors)
        (label_units, label_rows)
        | "Units" >> beam.Flatten()
        | "FirstUnits" >> beam.combiners.Top.SmallestPerKey(max(keep, 1))
        | "Floor" >> beam.Map(lambda kv: (kv[0], max(kv[1])))
    )
    _ = (
        windowed
        | "EvalSide"
        >> beam.Filter(lambda hashed, documents: w.effective_split(hashed[1], documents) == w.EVAL, documents=documents)
        | "EvalLabel" >> beam.Map(lambda hashed: (hashed[1].get("label", ""), w.where(hashed[1])))
        | "FirstEvalRow" >> beam.CombinePerKey(min)  # type: ignore[arg-type]  # (a callable combiner)
        | "NotEvalOnly" >> beam.Map(_check_eval_only, floors=floors)
    )
    forced = beam.pvalue.AsDict(
        training_side
        | "ForcedUnits" >> beam.Filter(_documented)
        | "AtFloor"
        >> beam.Filter(lambda hashed, floors: hashed[0] <= floors.get(hashed[1].get("label", ""), -1), floors=floors)
        | "ForcedHash" >> beam.Map(lambda hashed: hashed[0])
        | "ForcedOnce" >> beam.Distinct()
        | "AsKeys" >> beam.Map(lambda unit: (unit, True))
    )

    def assign(
        hashed: tuple[int, dict[str, str]], documents: dict[int, str], floors: dict[str, int], forced: dict[int, bool]
    ) -> tuple[str, dict[str, str]]:
        unit, row = hashed
        if _documented(hashed):
            at_floor = unit in forced
        else:
            at_floor = unit <= floors.get(row.get("label", ""), -1)
        given = w.effective_split(row, documents)
        return w.assign_split(unit, given, at_floor, eval_percent, validation_percent), row

    return rows | "Split" >> beam.Map(assign, documents=documents, floors=floors, forced=forced)


def _label_unit(hashed: tuple[int, dict[str, str]]) -> tuple[str, int]:
    return hashed[1].get("label", ""), hashed[0]


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
        validation_percent = int(exec_properties[VALIDATION_PERCENT_KEY])
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
                | "Hash" >> beam.Map(lambda row: (w.unit_hash(row), row))
            )
            split = _split(rows, in_window, eval_percent, validation_percent, keep)
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
