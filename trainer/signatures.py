"""Serving signatures of the exported SavedModel (docs/architecture.md, "The SavedModel contract").

- serving_default: raw `text` [None] -> scores [None, C], classes [None, C], label [None].
- serving_tf_example: serialized tf.Examples -> the same outputs (TFMA, TF Serving clients
  that send Examples).
- transform_features: serialized tf.Examples -> the two transformed features TFMA reads: the
  integer `label_id` and the `length_bucket` slice. Only those: the Transform graph is fed the
  label alone (TFT fills the unfed text with its default, empty, so no n-grams), and the slice comes
  from `text.length_bucket`, the function `preprocessing_fn` uses. Fed the text, the graph
  would compute every n-gram bag again, as dear as the prediction itself (BENCHMARKS.md, "Pipeline cost").
- tfma_eval: serialized tf.Examples -> `scores`, what the Evaluator scores (every metric is read
  from the confusion matrix of their argmax, the served decision: pipeline/metrics.py), and
  `predicted`, their one-hot argmax. TFMA unwraps a signature with one output, and the metric
  keys name the `scores` output: this second output keeps those keys as reports read them.
The Transform graph is inside every signature, so serving cannot skew from training.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import functools
from typing import Any, Union

import tensorflow as tf
import tensorflow_transform as tft

from trainer import features as F
from trainer import text as text_ops
from trainer.params import TransformParams


def _raw_feature_from_strings(
    spec: Union[tf.io.FixedLenFeature, tf.io.VarLenFeature], text: tf.Tensor
) -> Union[tf.Tensor, tf.SparseTensor]:
    """Shape a [batch] string tensor like the raw feature spec says `text` is parsed."""
    if isinstance(spec, tf.io.FixedLenFeature):
        return tf.reshape(text, [-1, *spec.shape])
    # VarLen: keep empty strings as values (from_dense would drop them).
    return tf.RaggedTensor.from_tensor(tf.reshape(text, [-1, 1])).to_sparse()


def _outputs(model: tf.keras.Model, transformed: dict[str, Any], labels: tf.Tensor) -> dict[str, tf.Tensor]:
    # The transformed features the model takes: the TF-IDF bags, or the wordpiece ids of an encoder.
    # By input name: `model.input` is a dict or a list (the calibrated model is built on `inputs`).
    scores = model({name: transformed[name] for name in model.input_names})
    batch = tf.shape(scores)[0]
    return {
        F.OUT_SCORES: scores,
        F.OUT_CLASSES: tf.tile(labels[tf.newaxis, :], [batch, 1]),
        F.OUT_LABEL: tf.gather(labels, tf.argmax(scores, axis=1)),
    }


def make_signatures(
    model: tf.keras.Model, tf_transform_output: tft.TFTransformOutput, transform_params: TransformParams
) -> dict[str, tf.types.experimental.ConcreteFunction]:
    # Tracked on the model so the table/asset resources are saved with it.
    model.tft_layer = tf_transform_output.transform_features_layer()
    label_names = tf.constant(tf_transform_output.vocabulary_by_name(F.LABEL_VOCAB))
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {k: v for k, v in raw_spec.items() if k != F.LABEL}
    # autograph=False: these bodies branch only on Python values, so there is nothing to convert
    # (tf_keras itself is skipped process-wide: trainer/model.py leave_keras_unconverted).
    signature = functools.partial(tf.function, autograph=False)

    @signature(input_signature=[tf.TensorSpec([None], tf.string, name=F.TEXT)])
    def serve_text(text: tf.Tensor) -> dict[str, tf.Tensor]:
        transformed = model.tft_layer({F.TEXT: _raw_feature_from_strings(raw_spec[F.TEXT], text)})
        return _outputs(model, transformed, label_names)

    @signature(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_example(examples, serving_spec)
        transformed = model.tft_layer(parsed)
        return _outputs(model, transformed, label_names)

    @signature(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def tfma_eval(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        transformed = model.tft_layer(tf.io.parse_example(examples, serving_spec))
        scores = _outputs(model, transformed, label_names)[F.OUT_SCORES]
        return {F.OUT_SCORES: scores, F.OUT_PREDICTED: tf.one_hot(tf.argmax(scores, axis=1), tf.shape(scores)[1])}

    @signature(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_example(examples, {k: raw_spec[k] for k in (F.TEXT, F.LABEL)})
        return {
            F.LABEL_ID: model.tft_layer({F.LABEL: parsed[F.LABEL]})[F.LABEL_ID],
            F.LENGTH_BUCKET: text_ops.length_bucket(
                text_ops.tokenize(text_ops.dense_strings(parsed[F.TEXT]), transform_params.max_tokens),
                transform_params.length_buckets,
            ),
        }

    return {
        F.SERVING_DEFAULT: serve_text.get_concrete_function(),
        F.SERVING_EXAMPLES: serve_examples.get_concrete_function(),
        F.TRANSFORM_FEATURES: transform_features.get_concrete_function(),
        F.TFMA_EVAL: tfma_eval.get_concrete_function(),
    }
