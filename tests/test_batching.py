"""Micro-batching and group commit: merged under load, each caller gets exactly its own answer."""
import threading
import time

import pytest

from serving.backends.base import Prediction
from serving.backends.batching import MicroBatcher
from serving.store.group_commit import GroupCommitter


def _slow_model(calls):
    def predict(texts):
        calls.append(len(texts))
        time.sleep(0.02)
        return Prediction(version=1, classes=["a", "b"], scores=[[len(t), 0.0] for t in texts], labels=list(texts))
    return predict


def test_concurrent_requests_share_calls_and_get_their_own_rows():
    calls = []
    batcher = MicroBatcher(_slow_model(calls), max_texts=64)
    results = {}

    def client(i):
        results[i] = batcher.predict([f"t{i}", f"u{i}"])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, prediction in results.items():
        assert prediction.labels == [f"t{i}", f"u{i}"] and len(prediction.scores) == 2
    assert sum(calls) == 40 and len(calls) < 20  # merged
    assert max(calls) <= 64
    batcher.close()


def test_failures_reach_every_caller_of_the_batch():
    def broken(texts):
        raise RuntimeError("model exploded")

    batcher = MicroBatcher(broken)
    with pytest.raises(RuntimeError, match="exploded"):
        batcher.predict(["x"])
    batcher.close()


def test_group_commit_merges_writes_and_reports_errors():
    writes = []

    def write(rows):
        if "bad" in rows:
            raise ValueError("constraint violated")
        time.sleep(0.01)
        writes.append(list(rows))

    committer = GroupCommitter(write)
    threads = [threading.Thread(target=committer.submit, args=([i],)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(x for rows in writes for x in rows) == list(range(30)) and len(writes) < 30
    with pytest.raises(ValueError, match="constraint"):
        committer.submit(["bad"])
