"""Transform's `preprocessing_fn`: raw text -> TF-IDF weighted word (and character) n-grams.

Why TF-IDF n-grams rather than subword embeddings: legal provisions are identified by fixed
phrases ("governed by the laws of", "in no event shall"), which word uni/bi-grams capture
exactly; the vocabulary and the IDF are full-pass analyzers, which is what tf.Transform is for,
and the result feeds a wide MLP (trainer/model.py) that beats TF-IDF + linear models at the
same CPU cost. The graph is saved with the model, so serving applies the identical steps.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

from typing import Any, Optional

import tensorflow as tf
import tensorflow_transform as tft

from trainer import features as F
from trainer import text as text_ops
from trainer.encoder import params as encoder_params
from trainer.encoder.transform import encoder_features
from trainer.params import TransformParams


def _l2_normalise(weights: tf.SparseTensor) -> tf.SparseTensor:
    rows = weights.indices[:, 0]
    norms = tf.sqrt(tf.math.unsorted_segment_sum(tf.square(weights.values), rows, weights.dense_shape[0]))
    return tf.SparseTensor(
        weights.indices, weights.values / tf.gather(tf.maximum(norms, 1e-12), rows), weights.dense_shape
    )


def _bag_of_terms(
    term_ids: tf.SparseTensor, idf: tf.SparseTensor, sublinear: bool
) -> tuple[tf.SparseTensor, tf.SparseTensor]:
    """[batch, position] term ids -> [batch, position-in-bag] (distinct ids, tf * idf weights).

    tf is the term's count in the document, or 1 + log(count) when `sublinear` (a phrase said
    three times is not three times the evidence; scikit-learn's `sublinear_tf`, which scored
    better on the legal benchmarks). Length normalisation is left to the L2 norm that follows.
    Core TF ops only (Unique, segment reductions), so the serving graph needs nothing new.
    """
    batch = term_ids.dense_shape[0]
    width = tf.constant(2**31, tf.int64)  # > any term id (vocab_size is far below it)
    docs = term_ids.indices[:, 0]
    # One key per (document, term); indices are row-major, so keys of a document are contiguous.
    keys = docs * width + term_ids.values
    unique_keys, position_to_entry, counts = tf.unique_with_counts(keys, out_idx=tf.int64)
    entries = tf.size(unique_keys, out_type=tf.int64)
    entry_docs = unique_keys // width
    entry_ids = unique_keys % width
    entry_idf = tf.math.unsorted_segment_max(idf.values, position_to_entry, entries)
    counts = tf.cast(counts, tf.float32)
    tf_weight = 1.0 + tf.math.log(counts) if sublinear else counts
    # Position of each entry within its document's bag: its rank after the document's first entry.
    first = tf.math.unsorted_segment_min(tf.range(entries), entry_docs, batch)
    positions = tf.range(entries) - tf.gather(first, entry_docs)
    indices = tf.stack([entry_docs, positions], axis=1)
    shape = tf.stack([batch, tf.maximum(tf.reduce_max(tf.concat([positions, [-1]], 0)) + 1, 0)])
    return tf.SparseTensor(indices, entry_ids, shape), tf.SparseTensor(indices, tf_weight * entry_idf, shape)


def _first_in_document(terms: tf.SparseTensor) -> tf.Tensor:
    """Per value of [batch, position] `terms`: 1.0 at a term's first position in its document, else 0.0."""
    hashes = tf.strings.to_hash_bucket_fast(terms.values, 2**62)  # 62-bit: collisions are negligible
    pairs = tf.stack([terms.indices[:, 0], hashes], axis=1)
    distinct, entry = tf.raw_ops.UniqueV2(x=pairs, axis=[0], out_idx=tf.int64)
    positions = tf.range(tf.size(entry, out_type=tf.int64))
    first = tf.math.unsorted_segment_min(positions, entry, tf.shape(distinct, out_type=tf.int64)[0])
    return tf.cast(tf.equal(positions, tf.gather(first, entry)), tf.float32)


def _tfidf_block(
    terms: tf.SparseTensor, vocab_size: int, min_df: int, vocab_filename: str, sublinear: bool
) -> tuple[tf.SparseTensor, tf.SparseTensor, tf.Tensor]:
    """[batch, position] terms -> (distinct ids, L2-normalised TF-IDF weights, number of ids)."""
    # One OOV bucket keeps every id inside [0, kept terms]; unseen terms share it. Weighted by "first in
    # its document": the vocabulary counts documents (min_df and top_k by document frequency, as
    # scikit-learn's), and each batch reaches Beam as (distinct term, count) pairs. Unweighted, TFT sends
    # every occurrence to a Python Count.PerElement: 2.8 million character n-grams on the demo's 3,000
    # rows, most of Transform's time.
    term_ids = tft.compute_and_apply_vocabulary(
        terms,
        top_k=vocab_size,
        frequency_threshold=min_df,
        num_oov_buckets=1,
        vocab_filename=vocab_filename,
        weights=_first_in_document(terms),
    )
    # Smoothed idf, 1 + ln((1 + N) / (1 + df)) as tft.tfidf and scikit-learn compute it.
    idf = tft.experimental.idf(term_ids, vocab_size + 1)
    bag_ids, bag_weights = _bag_of_terms(term_ids, idf, sublinear)
    return bag_ids, _l2_normalise(bag_weights), tft.get_num_buckets_for_transformed_feature(term_ids)


def _concat_bags(first: tf.SparseTensor, second: tf.SparseTensor) -> tf.SparseTensor:
    """Row-wise concatenation of two [batch, position] bags (positions stay contiguous from 0)."""
    return tf.concat([tf.RaggedTensor.from_sparse(first), tf.RaggedTensor.from_sparse(second)], axis=1).to_sparse()


def preprocessing_fn(inputs: dict[str, Any], custom_config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    params = TransformParams.model_validate((custom_config or {}).get("transform", {}))
    tokens = text_ops.tokenize(text_ops.dense_strings(inputs[F.TEXT]), params.max_tokens)
    encoder = encoder_params.from_custom_config(custom_config)
    if encoder is not None:  # a pretrained encoder: wordpiece ids instead of TF-IDF n-grams
        outputs = encoder_features(text_ops.dense_strings(inputs[F.TEXT]), encoder)
        outputs[F.LENGTH_BUCKET] = text_ops.length_bucket(tokens, params.length_buckets)
        return {**outputs, **_label_outputs(inputs)}
    terms = text_ops.ngrams(tokens, params.ngram_max).to_sparse()
    term_ids, term_weights, num_word_ids = _tfidf_block(
        terms, params.vocab_size, params.min_df, F.TERMS_VOCAB, params.sublinear_tf
    )
    if params.char_ngrams is not None:
        # A second bag with its own vocabulary, idf and L2 norm (scikit-learn's hstack of a word
        # and a char_wb TfidfVectorizer); its ids follow the word ids, so the model sees one
        # id space of size (words + 1) + (char grams + 1), which the Trainer reads back.
        grams = text_ops.char_ngrams(tokens, *params.char_ngrams).to_sparse()
        char_ids, char_weights, _ = _tfidf_block(
            grams, params.char_vocab_size, params.min_df, F.CHAR_TERMS_VOCAB, params.sublinear_tf
        )
        char_ids = tf.SparseTensor(char_ids.indices, char_ids.values + num_word_ids, char_ids.dense_shape)
        term_ids, term_weights = _concat_bags(term_ids, char_ids), _concat_bags(term_weights, char_weights)

    outputs = {
        F.TERM_IDS: term_ids,
        F.TERM_WEIGHTS: term_weights,
        F.LENGTH_BUCKET: text_ops.length_bucket(tokens, params.length_buckets),
    }
    return {**outputs, **_label_outputs(inputs), **_document_outputs(inputs)}


def _document_outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """`document_given` when the data has a `document` column: the model search prunes the ensemble's
    members only when its validation rows are whole documents (trainer/tuning.py)."""
    if F.DOCUMENT not in inputs:
        return {}
    document = inputs[F.DOCUMENT]
    if isinstance(document, tf.SparseTensor):  # optional: a batch may hold no value at all ([batch, 0])
        document = tf.sparse.to_dense(document, default_value="")
        document = tf.pad(document, [[0, 0], [0, 1 - tf.shape(document)[1]]])[:, :1]
    given = tf.strings.length(tf.reshape(document, [-1])) > 0
    return {F.DOCUMENT_GIVEN: tf.cast(given, tf.int64)}


def _label_outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """`label_id` and the label vocabularies (with counts): the same for every model family."""
    if F.LABEL not in inputs:
        return {}
    label = text_ops.dense_strings(inputs[F.LABEL])
    # Class ids follow the label vocabulary; the label set is data, never code.
    label_id = tft.compute_and_apply_vocabulary(label, vocab_filename=F.LABEL_VOCAB)
    # Same analyzer with counts: the Trainer derives class weights from it.
    tft.vocabulary(label, vocab_filename=F.LABEL_COUNTS_VOCAB, store_frequency=True)
    return {F.LABEL_ID: label_id}
