"""Opportunistic micro-batching: concurrent requests to one model share one model call.

No timer: a lone request runs at once (no added latency at low load); requests that arrive
while a batch is running are merged into the next one, so per-call overhead is paid once per
batch instead of once per request when many clients call together.

Two ways in: `predict` blocks the calling thread (gRPC, sync code); `predict_async` awaits on
the caller's event loop without occupying a thread; the requests one turn of the loop starts are
queued together, and a finished batch wakes each event loop once (core/handoff.py).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from core.handoff import LoopBuffer, settle_all
from serving.backends.base import Prediction

_STOP = object()


class MicroBatcher:
    def __init__(self, predict: Callable[[list[str]], Prediction], max_texts: int = 128, name: str = "batcher"):
        self._predict = predict
        self._max_texts = max_texts
        self._queue: queue.SimpleQueue[list] = queue.SimpleQueue()  # lists of (texts, future) requests
        self._closed = False
        self._lock = threading.Lock()  # nothing is queued behind _STOP
        self._from_loops = LoopBuffer(self._deliver_from_loop)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _enqueue(self, requests: list) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._queue.put(requests)
            return True

    def predict(self, texts: Sequence[str]) -> Prediction:
        texts = list(texts)
        future: Future = Future()
        if not self._enqueue([(texts, future)]):
            return self._predict(texts)  # closed (version being unloaded): the caller still holds the model
        return future.result()

    def predict_async(self, texts: Sequence[str]) -> asyncio.Future[Prediction]:
        """A future of the caller's event loop, settled when its batch is scored (no coroutine of its
        own: each layer of coroutines is resumed on every wake-up of the request)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Prediction] = loop.create_future()
        self._from_loops.add(loop, (list(texts), future))
        return future

    def _deliver_from_loop(self, requests: list) -> None:
        if self._enqueue(requests):
            return
        for texts, future in requests:  # closed meanwhile: scored unbatched in a worker thread
            done = future.get_loop().run_in_executor(None, self._predict, texts)
            done.add_done_callback(lambda source, target=future: _copy_outcome(source, target))

    def close(self) -> None:
        """Requests already queued are still answered; later ones are scored unbatched."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put([_STOP])

    def _take(self, block: bool) -> list:
        """Everything queued so far (waiting for something first when `block`)."""
        requests = list(self._queue.get()) if block else []
        while True:
            try:
                requests.extend(self._queue.get_nowait())
            except queue.Empty:
                return requests

    def _run(self) -> None:
        carry: deque = deque()  # requests taken off the queue, in arrival order; _STOP is always last
        while True:
            carry.extend(self._take(block=not carry))
            if carry[0] is _STOP:
                return
            batch: list = []
            size = 0
            while carry and carry[0] is not _STOP and (not batch or size + len(carry[0][0]) <= self._max_texts):
                batch.append(carry.popleft())
                size += len(batch[-1][0])
            try:
                result = self._predict([t for texts, _ in batch for t in texts])
            except BaseException as exc:
                settle_all([(future, exc, True) for _, future in batch])
                continue
            outcomes, offset = [], 0
            for texts, future in batch:
                n = len(texts)
                outcomes.append(
                    (
                        future,
                        Prediction(
                            version=result.version,
                            classes=result.classes,
                            scores=result.scores[offset : offset + n],
                            labels=result.labels[offset : offset + n],
                        ),
                        False,
                    )
                )
                offset += n
            settle_all(outcomes)


def _copy_outcome(source: asyncio.Future, target: asyncio.Future) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (error := source.exception()) is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())
