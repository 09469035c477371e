"""The in-process backend calls the signature's graph function directly, with exactly the
signature's outputs, and falls back to the signature itself where that is not possible."""

import core.tf_env  # noqa: F401

import tensorflow as tf

from serving.backends.inprocess import LoadedModel
from serving.backends.signature_call import direct_call

CLASSES = ["a", "b", "c"]


class Keywords(tf.Module):
    """The serving contract on a toy rule: scores from a vocabulary table (a captured resource) and a variable."""

    def __init__(self):
        super().__init__()
        keys = tf.constant(["alpha", "beta", "gamma"])
        self.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, tf.constant([0, 1, 2])), -1)
        self.weights = tf.Variable(tf.eye(3) * 2.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        ids = self.table.lookup(tf.strings.split(text).to_tensor(""))
        hits = tf.reduce_sum(tf.one_hot(ids, 3), axis=1)
        scores = tf.nn.softmax(tf.matmul(hits, self.weights) + 0.1)
        classes = tf.tile(tf.constant([CLASSES]), [tf.shape(text)[0], 1])
        return {"scores": scores, "classes": classes, "label": tf.gather(tf.constant(CLASSES), tf.argmax(scores, 1))}


def _saved(tmp_path):
    module = Keywords()
    tf.saved_model.save(module, str(tmp_path / "1"), signatures={"serving_default": module.serve})
    return tmp_path / "1"


def test_the_direct_call_answers_exactly_as_the_signature(tmp_path):
    model = LoadedModel(1, _saved(tmp_path))
    signature = model._module.signatures["serving_default"]
    assert model._call.__qualname__.startswith("direct_call")  # taken here (TF 2.16)
    for texts in (["alpha"], ["beta gamma", "gamma gamma", "nothing", ""], ["alpha beta"] * 33):
        fast = model._predict_now(texts)
        slow = signature(text=tf.constant(texts))
        assert fast.scores == slow["scores"].numpy().tolist()
        assert fast.labels == [label.decode() for label in slow["label"].numpy()]
    assert model.classes == CLASSES and model._predict_now(["gamma"]).labels == ["c"]
    model.close()


def test_without_the_internals_or_with_other_outputs_the_signature_is_called_as_it_is(tmp_path):
    signature = tf.saved_model.load(str(_saved(tmp_path))).signatures["serving_default"]
    probe = tf.constant(["alpha", "beta"])
    expected = signature(text=probe)
    assert direct_call(signature, probe, expected) is not None
    assert direct_call(object(), probe, expected) is None  # no such internals
    wrong = {**expected, "label": tf.constant([b"c", b"c"])}
    assert direct_call(signature, probe, wrong) is None  # a different answer: never used
    assert direct_call(signature, probe, {"scores": expected["scores"]}) is None
