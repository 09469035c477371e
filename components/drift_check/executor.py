"""Executor of DriftCheck: measure drift of the new span against the previous one, record it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.artifacts import span_of
from components.drift_check.drift import Sample, Thresholds, measure_drift
from components.drift_check.report import HTML_FILE, render_report
from components.drift_check.spec import (
    BASELINE_EXAMPLES_KEY,
    EXAMPLES_KEY,
    FAIL_ON_DRIFT_KEY,
    REPORT_FILE,
    REPORT_KEY,
    THRESHOLDS_KEY,
)


class DriftError(RuntimeError):
    """The new span drifted beyond the thresholds and the config says to stop on drift."""


def read_examples(artifacts: Iterable[types.Artifact]) -> Sample:
    """Every split's `text` and `label` of ExampleGen's (gzipped tf.Example) output."""
    import tensorflow as tf

    texts, labels = [], []
    for examples in artifacts:
        for split in artifact_utils.decode_split_names(examples.split_names):
            pattern = os.path.join(artifact_utils.get_split_uri([examples], split), "*")
            files = tf.io.gfile.glob(pattern)
            for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
                feature = tf.train.Example.FromString(record).features.feature
                text = feature["text"].bytes_list.value if "text" in feature else []
                label = feature["label"].bytes_list.value if "label" in feature else []
                if text:
                    texts.append(text[0].decode("utf-8", "replace"))
                    labels.append(label[0].decode("utf-8", "replace") if label else "")
    return Sample(texts, labels)


def _span(artifacts: list[types.Artifact]) -> int:
    span = span_of(artifacts[0]) if artifacts else None
    return -1 if span is None else span


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        thresholds = Thresholds(**json.loads(exec_properties[THRESHOLDS_KEY]))
        current = input_dict[EXAMPLES_KEY]
        baseline = input_dict.get(BASELINE_EXAMPLES_KEY) or []
        samples = read_examples(current), read_examples(baseline)
        result = measure_drift(*samples, thresholds)

        report = artifact_utils.get_single_instance(output_dict[REPORT_KEY])
        payload = {**result.to_dict(), "span": _span(current), "baseline_span": _span(baseline)}
        io_utils.write_string_file(os.path.join(report.uri, REPORT_FILE), json.dumps(payload, indent=2))
        # SpanExampleGen hands over an empty `previous_examples` (span -1) when there is no earlier span.
        names = f"span {_span(current)}", f"span {_span(baseline)}" if _span(baseline) >= 0 else "no previous span"
        html = render_report(result, *samples, *names, title=f"lexflow drift report: {names[0]} vs. {names[1]}")
        io_utils.write_string_file(os.path.join(report.uri, HTML_FILE), html)
        report.set_int_custom_property("drifted", int(result.drifted))
        report.set_int_custom_property("span", _span(current))
        report.set_int_custom_property("baseline_span", _span(baseline))
        report.set_string_custom_property("summary", result.describe())
        for m in result.measures:
            report.set_float_custom_property(f"{m.feature}_{m.metric.lower()}", m.value)

        if result.drifted and exec_properties.get(FAIL_ON_DRIFT_KEY):
            raise DriftError(
                f"drift check: span {_span(current)} vs. span {_span(baseline)}: {result.describe()}; "
                "run stopped before Transform (drift.fail_on_drift is set)"
            )
