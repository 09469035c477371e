"""Micro-batching and group commit: merged under load, each caller gets exactly its own answer."""

import threading
import time

import pytest

from feedback.group_commit import GroupCommitter
from serving.backends.base import Prediction
from serving.backends.batching import MicroBatcher


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


def test_coroutines_share_batches_with_threads_and_get_their_own_rows():
    import asyncio

    calls = []
    batcher = MicroBatcher(_slow_model(calls), max_texts=64)
    thread_results = {}

    def thread_client(i):
        thread_results[i] = batcher.predict([f"thread{i}"])

    async def main():
        threads = [threading.Thread(target=thread_client, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        results = await asyncio.gather(*(batcher.predict_async([f"co{i}", f"ro{i}"]) for i in range(30)))
        for t in threads:
            t.join()
        return results

    results = asyncio.run(main())
    for i, prediction in enumerate(results):
        assert prediction.labels == [f"co{i}", f"ro{i}"] and prediction.scores == [
            [len(f"co{i}"), 0.0],
            [len(f"ro{i}"), 0.0],
        ]
    assert all(thread_results[i].labels == [f"thread{i}"] for i in range(5))
    assert sum(calls) == 65 and len(calls) < 35 and max(calls) <= 64
    batcher.close()


def test_async_failures_reach_every_coroutine_and_cancelled_callers_do_not_stall_the_batcher():
    import asyncio

    def model(texts):
        if "boom" in texts:
            raise RuntimeError("model exploded")
        time.sleep(0.02)
        return Prediction(version=1, classes=["a"], scores=[[1.0]] * len(texts), labels=list(texts))

    batcher = MicroBatcher(model)

    async def main():
        with pytest.raises(RuntimeError, match="exploded"):
            await batcher.predict_async(["boom"])
        doomed = asyncio.ensure_future(batcher.predict_async(["slow"]))
        await asyncio.sleep(0)
        doomed.cancel()  # the client went away while its batch was running
        assert (await batcher.predict_async(["after"])).labels == ["after"]

    asyncio.run(main())
    batcher.close()


def test_a_closed_batcher_still_answers_late_callers_unbatched():
    """A version being unloaded: callers that already hold the model must neither fail nor hang."""
    import asyncio

    calls = []
    batcher = MicroBatcher(_slow_model(calls))
    batcher.close()
    assert batcher.predict(["late"]).labels == ["late"]

    async def later():  # predict_async hands back a future of the running loop
        return await batcher.predict_async(["later"])

    assert asyncio.run(later()).labels == ["later"]
    assert calls == [1, 1]


def test_group_commit_from_coroutines_waits_for_the_write_and_reports_errors():
    import asyncio

    writes = []

    def write(rows):
        if "bad" in rows:
            raise ValueError("constraint violated")
        time.sleep(0.01)
        writes.append(list(rows))

    committer = GroupCommitter(write)

    async def main():
        await asyncio.gather(*(committer.submit_async([i]) for i in range(30)))
        assert sorted(x for rows in writes for x in rows) == list(range(30))  # all written before they returned
        with pytest.raises(ValueError, match="constraint"):
            await committer.submit_async(["bad"])

    asyncio.run(main())
    assert len(writes) < 30
