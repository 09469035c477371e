"""Local in_memory Beam runs without the embedded worker's side-input cache.

Beam's in_memory DirectRunner gives its embedded worker a 100 MB state cache (hard-coded:
`worker_handlers.STATE_CACHE_SIZE_MB`; no pipeline option reaches it). Every side input a bundle
reads is a cache miss there (the cache tokens are per bundle), and each miss weighs the
loaded value with `objsize.get_deep_size`, a walk over every object of it: TFT's vocabularies and
analyzer outputs, the file lists of each write. Profiled on the demo (py-spy), that walk was
about a tenth of the whole run's CPU samples. With the cache off Beam reads the side input
lazily from the in-process state it already holds, and weighs nothing: the demo's wall went
from 54.3 s to 48.3 s (Transform 24.2 -> 21.2 s), same model quality (BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def without_state_cache(enabled: bool = True) -> Iterator[None]:
    """While the block runs, in_memory Beam pipelines started in this process have no state cache.

    `enabled=False` leaves Beam as it is (another runner or mode: the constant is not read there).
    """
    if not enabled:
        yield
        return
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    before = worker_handlers.STATE_CACHE_SIZE_MB
    worker_handlers.STATE_CACHE_SIZE_MB = 0
    try:
        yield
    finally:
        worker_handlers.STATE_CACHE_SIZE_MB = before
