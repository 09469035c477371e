"""Group commit: many concurrent prediction logs share one transaction (and one fsync).

Callers block until the transaction holding their rows has committed, so "durable before the
API answers" still holds; under load the cost of a commit is spread over every request that
arrived while the previous one was being written.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable


class GroupCommitter:
    def __init__(self, write: Callable[[list], None], max_items: int = 256):
        self._write = write
        self._max_items = max_items
        self._queue: "queue.Queue[tuple[list, Future]]" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, rows: list) -> None:
        """Write `rows` durably; returns once they are committed (raises what the write raised)."""
        future: Future = Future()
        self._queue.put((rows, future))
        future.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            total = len(batch[0][0])
            while total < self._max_items:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
                total += len(item[0])
            try:
                self._write([row for rows, _ in batch for row in rows])
            except BaseException as exc:  # noqa: BLE001 - every waiter must learn of the failure
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for _, future in batch:
                    future.set_result(None)
