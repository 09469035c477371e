"""The Trainer's input pipeline (trainer/data.py) over a stand-in for TFX's DataAccessor."""

from collections import Counter
from types import SimpleNamespace

import tensorflow as tf

from trainer import data
from trainer import features as F
from trainer.params import TrainParams

# (term ids, their weights, label): row i has the distinct term id i, so a batch names its rows.
ROWS = [([i, 10 + i], [0.6, 0.8], i % 2) for i in range(6)]


class FakeAccessor:
    """What DataAccessor.tf_dataset_factory returns: sparse term batches and the label, repeated unless
    num_epochs is set; counts how often the split is read."""

    def __init__(self, rows: list = ROWS) -> None:
        self.reads = 0
        self.rows = rows

    def tf_dataset_factory(self, files, options, schema):
        def read(_):
            self.reads += 1
            return 0

        ids = tf.ragged.constant([r[0] for r in self.rows], dtype=tf.int64)
        weights = tf.ragged.constant([r[1] for r in self.rows], dtype=tf.float32)
        labels = tf.constant([[r[2]] for r in self.rows], tf.int64)
        rows = tf.data.Dataset.from_tensor_slices(({F.TERM_IDS: ids, F.TERM_WEIGHTS: weights}, labels))
        # A side effect per pass over the split: the cache must keep later epochs from reading it again.
        rows = (
            tf.data.Dataset.from_tensors(0).map(lambda x: tf.py_function(read, [x], tf.int32)).flat_map(lambda _: rows)
        )
        batched = rows.ragged_batch(options.batch_size).map(
            lambda features, label: ({k: v.to_sparse() for k, v in features.items()}, label)
        )
        return batched if options.num_epochs == 1 else batched.repeat()


def _fn_args(rows: list = ROWS) -> SimpleNamespace:
    return SimpleNamespace(data_accessor=FakeAccessor(rows), train_files=["train/*"])


def _row_counts(dataset: tf.data.Dataset, batches: int) -> Counter:
    counts: Counter = Counter()
    for inputs, label in dataset.take(batches):
        ids = inputs[F.TERM_IDS]
        first_term = tf.sparse.to_dense(ids)[:, 0].numpy()  # row i starts with id i
        assert list(first_term % 2) == list(label.numpy())
        counts.update(int(i) for i in first_term)
    return counts


def test_small_train_split_is_read_once_then_served_from_memory_every_epoch():
    fn_args, transform_output = _fn_args(), SimpleNamespace(transformed_metadata=SimpleNamespace(schema=None))
    cached = data.cached_train_batches(fn_args, transform_output, batch_size=2, seed=0, rows=len(ROWS))
    assert cached is not None
    # Three epochs of 3 batches: every row three times; the split read for the size probe's first batch
    # and once to fill the cache (streaming would read it once per epoch).
    assert _row_counts(cached, 9) == dict.fromkeys(range(len(ROWS)), 3)
    assert fn_args.data_accessor.reads == 2


def _batches(dataset: tf.data.Dataset, count: int) -> list:
    out = []
    for inputs, label in dataset.take(count):
        ids, weights = inputs[F.TERM_IDS], inputs[F.TERM_WEIGHTS]
        tensors = (ids.indices, ids.values, ids.dense_shape, weights.indices, weights.values, label)
        out.append(tuple(t.numpy().tolist() for t in tensors))
    return out


def test_a_split_that_fits_only_packed_is_cached_packed_and_gives_the_same_batches(monkeypatch):
    transform_output = SimpleNamespace(transformed_metadata=SimpleNamespace(schema=None))
    parsed = data.cached_train_batches(_fn_args(), transform_output, batch_size=2, seed=0, rows=len(ROWS))
    # ROWS: 12 terms in 6 rows; as parsed 12 * 44 + 6 * 8 = 576 bytes, packed 12 * 8 + 6 * 16 = 192.
    monkeypatch.setattr(data, "CACHE_LIMIT_BYTES", 200)
    traced, unpack = [], data._unpack
    monkeypatch.setattr(data, "_unpack", lambda *args: traced.append(1) or unpack(*args))
    fn_args = _fn_args()
    packed = data.cached_train_batches(fn_args, transform_output, batch_size=2, seed=0, rows=len(ROWS))
    assert packed is not None and traced  # cached packed, not as parsed
    # Same batches, same order over three epochs (the shuffle is of whole batches, seeded), same indices,
    # ids and weights; a dataset's reshuffles go on across its iterators, so each is read once.
    assert _batches(packed, 9) == _batches(parsed, 9)
    assert fn_args.data_accessor.reads == 2  # the size probe and the one pass: later epochs come from memory
    again = data.cached_train_batches(_fn_args(), transform_output, batch_size=2, seed=0, rows=len(ROWS))
    assert _row_counts(again, 9) == dict.fromkeys(range(len(ROWS)), 3)
    inputs, _ = next(iter(again))
    assert inputs[F.TERM_IDS].values.dtype == tf.int64 and inputs[F.TERM_IDS].dense_shape.numpy().tolist() == [2, 2]


# Rows of 3, 0, 1, 2, 4, 1 and 0 terms: empty rows (first, last and alone in a batch) and a short last batch.
RAGGED_ROWS = [
    ([1, 2, 3], [0.1, 0.2, 0.3], 0),
    ([], [], 1),
    ([4], [0.4], 0),
    ([5, 6], [0.5, 0.6], 1),
    ([7, 8, 9, 10], [0.7, 0.8, 0.9, 1.0], 0),
    ([11], [1.1], 1),
    ([], [], 0),
]


def test_packed_batches_keep_empty_rows_ragged_rows_and_a_short_last_batch(monkeypatch):
    transform_output = SimpleNamespace(transformed_metadata=SimpleNamespace(schema=None))
    args = {"batch_size": 3, "seed": 1, "rows": len(RAGGED_ROWS)}
    parsed = data.cached_train_batches(_fn_args(RAGGED_ROWS), transform_output, **args)
    # The size probe's first batch has 4 terms in 3 rows: ~9.3 terms a pass, 466 bytes parsed, 187 packed.
    monkeypatch.setattr(data, "CACHE_LIMIT_BYTES", 300)
    traced, unpack = [], data._unpack
    monkeypatch.setattr(data, "_unpack", lambda *a: traced.append(1) or unpack(*a))
    packed = data.cached_train_batches(_fn_args(RAGGED_ROWS), transform_output, **args)
    assert packed is not None and traced
    expected = _batches(parsed, 6)
    assert _batches(packed, 6) == expected
    # The batches really have these shapes: 3, 3 and 1 rows; the last one ([]) has no terms at all.
    assert sorted((b[2][0], len(b[1])) for b in expected[:3]) == [(1, 0), (3, 4), (3, 7)]


def test_a_split_too_large_for_memory_streams_from_disk(monkeypatch):
    monkeypatch.setattr(data, "CACHE_LIMIT_BYTES", 1)
    fn_args, transform_output = _fn_args(), SimpleNamespace(transformed_metadata=SimpleNamespace(schema=None))
    assert data.cached_train_batches(fn_args, transform_output, batch_size=2, seed=0, rows=len(ROWS)) is None
    params = TrainParams(batch_size=2, seed=0)
    streamed = data.train_dataset(fn_args, transform_output, params, None, len(ROWS))
    assert _row_counts(streamed, 6) == dict.fromkeys(range(len(ROWS)), 2)
