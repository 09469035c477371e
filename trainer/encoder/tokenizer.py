"""WordPiece tokenisation inside the Transform graph, with TF Text ops the stock TF Serving binary links.

`tf_text.BertTokenizer` (BERT's BasicTokenizer + WordPiece) lowers to four TF Text kernels, all
registered with the same op definitions in TF Text 2.12 (what `tensorflow/serving` 2.16 links)
and 2.16: `CaseFoldUTF8` and `NormalizeUTF8` (case folding, NFD and accent stripping of uncased
checkpoints), `RegexSplitWithOffsets` (whitespace/punctuation/CJK split) and
`WordpieceTokenizeWithOffsets`. Not `FastBertTokenizer`: its kernels are not in the TF Serving
op set lexflow relies on. The vocabulary is a hash table initialised from the checkpoint's
`vocab.txt`, which becomes an asset of the Transform graph (and so of every pushed model).

Difference from HuggingFace's BertTokenizer: `CaseFoldUTF8` applies NFKC case folding where HF
lower-cases, so compatibility characters (ligatures, full-width forms) map to their plain
letters first; ordinary text tokenises identically.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import tensorflow as tf
import tensorflow_text as tf_text

from trainer.encoder.checkpoint import Checkpoint

# BERT's WordPiece: words longer than this many bytes become [UNK] (HF: 100 characters).
MAX_BYTES_PER_WORD = 100


def vocabulary_table(checkpoint: Checkpoint) -> tf.lookup.StaticVocabularyTable:
    """token -> id (line number of vocab.txt); created eagerly, so the file is tracked as an asset."""
    initializer = tf.lookup.TextFileInitializer(
        str(checkpoint.vocab_file),
        key_dtype=tf.string,
        key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
        value_dtype=tf.int64,
        value_index=tf.lookup.TextFileIndex.LINE_NUMBER,
    )
    # WordPiece maps unknown words to [UNK] itself; the one OOV bucket is never hit by its output.
    return tf.lookup.StaticVocabularyTable(initializer, num_oov_buckets=1)


def token_ids(
    text: tf.Tensor, table: tf.lookup.StaticVocabularyTable, checkpoint: Checkpoint, max_tokens: int, lower_case: bool
) -> tf.RaggedTensor:
    """[batch] strings -> [batch, (tokens)] int64: [CLS] wordpieces... [SEP], at most `max_tokens` ids."""
    tokenizer = tf_text.BertTokenizer(
        table,
        suffix_indicator="##",
        max_bytes_per_word=MAX_BYTES_PER_WORD,
        token_out_type=tf.int64,
        unknown_token="[UNK]",
        lower_case=lower_case,
    )
    pieces = tokenizer.tokenize(text).merge_dims(-2, -1)[:, : max_tokens - 2]
    rows = pieces.nrows()
    ids = checkpoint.special_ids
    cls = tf.fill([rows, 1], tf.constant(ids["[CLS]"], tf.int64))
    sep = tf.fill([rows, 1], tf.constant(ids["[SEP]"], tf.int64))
    return tf.concat([cls, pieces, sep], axis=1)
