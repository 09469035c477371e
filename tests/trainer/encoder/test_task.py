"""The encoder's training input and schedule: length-bucketed batches lose no token, the schedule is BERT's."""

import numpy as np
import pytest
import tensorflow as tf

from trainer import features as F
from trainer.encoder.params import EncoderParams
from trainer.encoder.task import WarmupLinearDecay, bucketed_dataset, length_buckets

from .tiny_bert import write_tiny_bert


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    return EncoderParams(
        checkpoint=write_tiny_bert(tmp_path_factory.mktemp("ckpt") / "tiny"), max_tokens=64, batch_size=4
    )


def test_length_buckets_end_at_max_tokens():
    assert length_buckets(64) == [16, 32, 48, 64]
    assert length_buckets(100) == [16, 32, 48, 64, 80, 96, 100]
    assert length_buckets(512) == [16, 32, 48, 64, 80, 96, 112, 128, 192, 256, 320, 384, 448, 512]


def test_bucketed_batches_keep_every_example_and_group_similar_lengths(params):
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 65, size=40)
    rows = [[int(n)] * int(n) for n in lengths]  # each row's ids are its length: alignment is checkable
    labels = [int(n) % 3 for n in lengths]
    source = tf.data.Dataset.from_tensor_slices((tf.ragged.constant(rows, dtype=tf.int64), labels)).batch(8)
    source = source.map(lambda ids, label: ({F.TOKEN_IDS: ids.to_sparse()}, label))
    seen = []
    for inputs, label, weight in bucketed_dataset(source, params, weights=[1.0, 2.0, 3.0]):
        ragged = tf.RaggedTensor.from_sparse(inputs[F.TOKEN_IDS]).to_list()
        sizes = [len(r) for r in ragged]
        assert len({(n - 1) // 16 for n in sizes}) == 1  # one bucket per batch: padding stays small
        for row, y, w in zip(ragged, label.numpy(), weight.numpy(), strict=True):
            assert row == [len(row)] * len(row) and y == len(row) % 3 and w == y + 1.0
            seen.append(len(row))
    assert sorted(seen) == sorted(lengths.tolist())


def test_warmup_then_linear_decay_to_zero():
    schedule = WarmupLinearDecay(1e-4, total=100, warmup=10)
    values = [float(schedule(step)) for step in (0, 5, 10, 55, 100, 120)]
    assert values == pytest.approx([0.0, 5e-5, 1e-4, 5e-5, 0.0, 0.0], abs=1e-9)
