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

    def __init__(self) -> None:
        self.reads = 0

    def tf_dataset_factory(self, files, options, schema):
        def read(_):
            self.reads += 1
            return 0

        ids = tf.ragged.constant([r[0] for r in ROWS], dtype=tf.int64)
        weights = tf.ragged.constant([r[1] for r in ROWS], dtype=tf.float32)
        labels = tf.constant([[r[2]] for r in ROWS], tf.int64)
        rows = tf.data.Dataset.from_tensor_slices(({F.TERM_IDS: ids, F.TERM_WEIGHTS: weights}, labels))
        # A side effect per pass over the split: the cache must keep later epochs from reading it again.
        rows = (
            tf.data.Dataset.from_tensors(0).map(lambda x: tf.py_function(read, [x], tf.int32)).flat_map(lambda _: rows)
        )
        batched = rows.ragged_batch(options.batch_size).map(
            lambda features, label: ({k: v.to_sparse() for k, v in features.items()}, label)
        )
        return batched if options.num_epochs == 1 else batched.repeat()


def _fn_args() -> SimpleNamespace:
    return SimpleNamespace(data_accessor=FakeAccessor(), train_files=["train/*"])


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
    # ROWS: 12 terms; as parsed 12 * 44 = 528 bytes, packed 12 * 8 = 96.
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


def test_a_split_too_large_for_memory_streams_from_disk(monkeypatch):
    monkeypatch.setattr(data, "CACHE_LIMIT_BYTES", 1)
    fn_args, transform_output = _fn_args(), SimpleNamespace(transformed_metadata=SimpleNamespace(schema=None))
    assert data.cached_train_batches(fn_args, transform_output, batch_size=2, seed=0, rows=len(ROWS)) is None
    params = TrainParams(batch_size=2, seed=0)
    streamed = data.train_dataset(fn_args, transform_output, params, None, len(ROWS))
    assert _row_counts(streamed, 6) == dict.fromkeys(range(len(ROWS)), 2)
