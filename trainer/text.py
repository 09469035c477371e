"""Text normalisation and tokenisation with tensorflow-text.

Every op here must exist in the TF Text op library that the stock `tensorflow/serving` 2.16
binary links (TF Text 2.12): only `CaseFoldUTF8` and `RegexSplitWithOffsets` come from TF Text
(both since TF Text 2.0); n-grams, UTF-8 decoding, vocabulary lookup and TF-IDF are core TensorFlow
(see serving/README.md for the evidence).
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

from typing import Any

import tensorflow as tf
import tensorflow_text as tf_text

# Letters (any script), digits and underscores make words; everything else separates them.
_WORD_SPLIT = r"[^\p{L}\p{N}_]+"


def dense_strings(feature: Any) -> tf.Tensor:
    """A raw string feature (dense [batch, 1] or sparse [batch, <=1]) as a [batch] tensor."""
    if isinstance(feature, tf.SparseTensor):
        feature = tf.sparse.to_dense(feature, default_value="")
    return tf.reshape(feature, [-1])


def normalize(text: tf.Tensor) -> tf.Tensor:
    """NFKC + case fold, then every digit run becomes "0".

    Numbers (amounts, dates, section references) vary without carrying the clause type and
    would flood the vocabulary with one-off terms.
    """
    text = tf_text.case_fold_utf8(text)
    return tf.strings.regex_replace(text, r"\p{N}+", "0")


def tokenize(text: tf.Tensor, max_tokens: int) -> tf.RaggedTensor:
    """[batch] strings -> [batch, (tokens)] ragged words, truncated by slicing."""
    tokens = tf_text.regex_split(normalize(text), _WORD_SPLIT)
    # regex_split yields an empty token when the text starts with a separator.
    tokens = tf.ragged.boolean_mask(tokens, tf.strings.length(tokens) > 0)
    return tokens[:, :max_tokens]


def ngrams(tokens: tf.RaggedTensor, ngram_max: int) -> tf.RaggedTensor:
    """Words plus word n-grams up to `ngram_max`, joined with a space.

    Core TF's StringNGrams rather than tf_text.ngrams: the latter lowers to a TF Text kernel
    (`TFText>NgramsStringJoin`), one more op the serving binary would have to have.
    """
    return tf.strings.ngrams(tokens, list(range(1, ngram_max + 1)), separator=" ")


def char_ngrams(tokens: tf.RaggedTensor, lo: int, hi: int) -> tf.RaggedTensor:
    """[batch, (words)] -> [batch, (grams)]: character n-grams of widths lo..hi within each word.

    Each word is padded with a space on both sides first, as scikit-learn's `char_wb` does, so
    prefixes and suffixes (" sub", "ee ") are grams of their own. Characters are Unicode code
    points (core TF's UnicodeDecode), not bytes. A word shorter than a width yields no gram of
    that width; the shorter grams already cover it.
    """
    padded = tf.strings.join([" ", tokens.flat_values, " "])
    chars = tf.strings.unicode_split(padded, "UTF-8")
    grams = tf.strings.ngrams(chars, list(range(lo, hi + 1)), separator="")
    # Regroup the grams of each word into the grams of its document.
    return tf.RaggedTensor.from_row_splits(grams.values, tf.gather(grams.row_splits, tokens.row_splits))


def length_bucket(tokens: tf.RaggedTensor, boundaries: list[int]) -> tf.Tensor:
    """[batch, (words)] -> [batch] names of the word-count bucket ("short", "medium", "long" for two
    boundaries): the `length_bucket` slice, which both `preprocessing_fn` and the Evaluator's
    `transform_features` signature (without the n-gram bags) compute from these tokens."""
    counts = tf.cast(tokens.row_lengths(), tf.int64)
    bucket = tf.zeros_like(counts)
    for boundary in boundaries:
        bucket += tf.cast(counts >= boundary, tf.int64)
    names = ["short", "medium", "long"] if len(boundaries) == 2 else [f"b{i}" for i in range(len(boundaries) + 1)]
    return tf.gather(tf.constant(names), bucket)
