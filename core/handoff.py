"""Hand results from a worker thread (micro-batcher, group committer) to the callers waiting on it.

A caller waits either on a `concurrent.futures.Future` (a blocked thread) or on an asyncio future
(a coroutine on an event loop, which holds no thread while it waits). `settle_all` completes the
first kind at once and the second kind on its own loop, with one wake-up per loop for the whole
batch rather than one per caller.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


def settle_all(outcomes: list) -> None:
    """`outcomes`: (future, value, failed) triples; `value` is the exception when `failed`."""
    by_loop: dict = {}
    for future, value, failed in outcomes:
        if not isinstance(future, Future):
            by_loop.setdefault(future.get_loop(), []).append((future, value, failed))
        elif failed:
            future.set_exception(value)
        else:
            future.set_result(value)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_on_loop, items)


def _settle_on_loop(items: list) -> None:
    for future, value, failed in items:
        if future.done():  # the awaiting request was cancelled (client went away)
            continue
        if failed:
            future.set_exception(value)
        else:
            future.set_result(value)


class LoopBuffer:
    """What the coroutines of one event loop hand to a worker thread during one turn of the loop,
    delivered as one list at the end of the turn: one queue operation and at most one thread
    wake-up for all the requests the loop started together, instead of one each.

    `add` must be called on the loop's own thread (the buffer of each loop is only touched there).
    """

    def __init__(self, deliver: Callable[[list], None]):
        self._deliver = deliver
        self._pending: dict = {}

    def add(self, loop: asyncio.AbstractEventLoop, item: Any) -> None:
        items = self._pending.get(loop)
        if items is None:
            items = self._pending[loop] = []
            loop.call_soon(self._flush, loop)
        items.append(item)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._deliver(self._pending.pop(loop))
