"""Group commit: many concurrent prediction logs share one transaction (and one fsync).

Callers block until the transaction holding their rows has committed, so "durable before the
API answers" still holds; under load the cost of a commit is spread over every request that
arrived while the previous one was being written. `submit_async` is the same for a coroutine:
it awaits the commit on its event loop instead of blocking a thread (and the rows of all the
requests one turn of the loop logs are queued together).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

from core.handoff import LoopBuffer, settle_all


class GroupCommitter:
    def __init__(self, write: Callable[[list], None], max_items: int = 256):
        self._write = write
        self._max_items = max_items
        self._queue: queue.SimpleQueue[list[tuple[list, Future]]] = queue.SimpleQueue()
        self._from_loops = LoopBuffer(self._queue.put)
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, rows: list) -> None:
        """Write `rows` durably; returns once they are committed (raises what the write raised)."""
        future: Future = Future()
        self._queue.put([(rows, future)])
        future.result()

    def submit_async(self, rows: list) -> asyncio.Future[None]:
        """`submit` for a coroutine: a future of its event loop, settled once the rows are committed
        (`await committer.submit_async(rows)`; no thread is held meanwhile)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._from_loops.add(loop, (rows, future))
        return future

    def _run(self) -> None:
        carry: deque = deque()
        while True:
            carry.extend(self._queue.get() if not carry else ())
            while True:
                try:
                    carry.extend(self._queue.get_nowait())
                except queue.Empty:
                    break
            batch: list = []
            total = 0
            while carry and (not batch or total + len(carry[0][0]) <= self._max_items):
                batch.append(carry.popleft())
                total += len(batch[-1][0])
            try:
                self._write([row for rows, _ in batch for row in rows])
            except BaseException as exc:
                settle_all([(future, exc, True) for _, future in batch])
            else:
                settle_all([(future, None, False) for _, future in batch])
