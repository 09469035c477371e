"""One way to replace a file so that readers see the old content or the new, never half of it.

Written to a uniquely named hidden temporary file beside the target (two writers never share
one), flushed and fsync'd, renamed over the target (atomic on one filesystem), and the directory
fsync'd so that the rename itself survives a power cut. Used for every file another process reads
while it may be rewritten: routing.json, TF Serving's model config, reports, verdicts, feedback spans.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_text_atomically(path: Path, text: str, *, newline: str | None = None) -> None:
    """Replace `path` with `text` (UTF-8; `newline` as `open` takes it, e.g. "" for csv output)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # a platform without directory descriptors: the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
