"""Opportunistic micro-batching: concurrent requests to one model share one model call.

No timer: a lone request runs at once (no added latency at low load); requests that arrive
while a batch is running are merged into the next one, so per-call overhead is paid once per
batch instead of once per request when many clients call together.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable, Optional, Sequence

from serving.backends.base import Prediction

_STOP = object()


class MicroBatcher:
    def __init__(self, predict: Callable[[list[str]], Prediction], max_texts: int = 128, name: str = "batcher"):
        self._predict = predict
        self._max_texts = max_texts
        self._queue: "queue.Queue" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def predict(self, texts: Sequence[str]) -> Prediction:
        future: Future = Future()
        self._queue.put((list(texts), future))
        return future.result()

    def close(self) -> None:
        self._queue.put(_STOP)

    def _run(self) -> None:
        pending: Optional[tuple] = None
        while True:
            item = pending or self._queue.get()
            pending = None
            if item is _STOP:
                return
            batch = [item]
            size = len(item[0])
            while size < self._max_texts:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP or size + len(nxt[0]) > self._max_texts:
                    pending = nxt
                    break
                batch.append(nxt)
                size += len(nxt[0])
            try:
                result = self._predict([t for texts, _ in batch for t in texts])
            except BaseException as exc:  # noqa: BLE001 - each caller gets the failure
                for _, future in batch:
                    future.set_exception(exc)
                continue
            offset = 0
            for texts, future in batch:
                n = len(texts)
                future.set_result(Prediction(version=result.version, classes=result.classes,
                                             scores=result.scores[offset:offset + n], labels=result.labels[offset:offset + n]))
                offset += n
