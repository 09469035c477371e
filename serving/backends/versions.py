"""Which complete versions a model directory holds, for the gateway (the rules: core/model_dir.py).

Anything in the model directory that is not a version is skipped: hidden entries (the Pusher's
staging folders) and files (`routing.json`) silently, other directories (`99999999999999999999`,
`²`, `007`, `backup`) with one warning per name, not one per poll.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core.model_dir import SAVED_MODEL, parse_version

log = logging.getLogger("lexflow.gateway")
_warned: set[Path] = set()  # odd names already reported (once per process, whoever scans)
_warned_lock = threading.Lock()


class VersionDirectory:
    """The complete versions under `<base>/<model>/`, warning once about each odd name."""

    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)

    def scan(self) -> dict[int, Path]:
        """version -> directory, for versions that are complete (Pusher copies saved_model.pb last)."""
        try:
            entries = list(self.model_dir.iterdir())
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return {}
        found = {}
        for path in entries:
            if path.name.startswith(".") or not path.is_dir():
                continue
            version = parse_version(path.name)
            if version is None:
                self._warn(path)
            elif (path / SAVED_MODEL).is_file():
                found[version] = path
        return found

    @staticmethod
    def _warn(path: Path) -> None:
        with _warned_lock:
            if path in _warned:
                return
            _warned.add(path)
        log.warning(
            "ignoring %s: %r is not a version number (digits only, no leading zeros, at most 2^63-1)",
            path,
            path.name,
        )
