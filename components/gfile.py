"""Typed helpers over tfx.dsl.io.fileio (tf.io.gfile): one code path for local folders and buckets.

fileio may hand back bytes or str paths depending on the filesystem; these always return str.
"""

from __future__ import annotations

from tfx.dsl.io import fileio


def _text(path: bytes | str) -> str:
    return path.decode() if isinstance(path, bytes) else path


def listdir(path: str) -> list[str]:
    return [_text(name) for name in fileio.listdir(path)]


def glob(pattern: str) -> list[str]:
    return [_text(path) for path in fileio.glob(pattern)]


def files_under(root: str) -> list[str]:
    """Every file under `root`, relative to it, '/'-separated, sorted."""
    root = root.rstrip("/")
    found = []
    for directory, _, names in fileio.walk(root):
        for name in names:
            found.append(f"{_text(directory).rstrip('/')}/{_text(name)}"[len(root) + 1 :])
    return sorted(found)


def read_text(path: str) -> str:
    with fileio.open(path, "r") as handle:
        return _text(handle.read())
