"""Feature names shared by Transform, Trainer, Evaluator and the serving signatures.

These are the contracts of docs/architecture.md (the raw example and the SavedModel), not tunables.
"""

# Raw example columns.
TEXT = "text"
LABEL = "label"
DOCUMENT = "document"  # optional: rows of one document never straddle splits (core/splits.py)

# Transformed features.
TERM_IDS = "term_ids"  # VarLen int64: vocabulary ids of the document's distinct n-grams
TERM_WEIGHTS = "term_weights"  # VarLen float: their L2-normalised TF-IDF weights, same positions
TOKEN_IDS = "token_ids"  # VarLen int64: wordpiece ids with [CLS] ... [SEP] (with a pretrained encoder)
LABEL_ID = "label_id"  # int64 class index into the `label` vocabulary
LENGTH_BUCKET = "length_bucket"  # string slice for TFMA: short / medium / long
DOCUMENT_GIVEN = "document_given"  # int64 1 when the row names its document (data with a `document` column)

# Transform vocabulary files.
TERMS_VOCAB = "terms"
CHAR_TERMS_VOCAB = "char_terms"  # character n-grams (with transform.char_ngrams); ids follow the word ids
LABEL_VOCAB = "label"
LABEL_COUNTS_VOCAB = "label_counts"

# Serving signatures and their outputs.
SERVING_DEFAULT = "serving_default"
SERVING_EXAMPLES = "serving_tf_example"
TRANSFORM_FEATURES = "transform_features"
TFMA_EVAL = "tfma_eval"  # serialized Examples -> {scores, predicted}: what the Evaluator scores
OUT_SCORES = "scores"
OUT_CLASSES = "classes"
OUT_LABEL = "label"
OUT_PREDICTED = "predicted"  # one-hot argmax, beside scores: TFMA unwraps a signature of one output
