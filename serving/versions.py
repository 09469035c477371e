"""Version numbers: what a version is, and which complete versions a model directory holds.

A version is a whole number from 0 to 2^63 - 1 (64-bit everywhere: the Pusher names versions by
UNIX time). A version directory's name is that number in plain ASCII digits without leading
zeros, as the Pusher writes it. Anything else in the model directory is skipped: hidden entries
(the Pusher's staging folders) and files (`routing.json`) silently, other directories
(`99999999999999999999`, `²`, `007`, `backup`) with one warning per name, not one per poll.
TF Serving skips overflowing and non-numeric names silently and reads `007` as 7; the gateway
names versions only in the canonical form, so such a directory is never routed to.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Optional

log = logging.getLogger("lexflow.gateway")
MAX_VERSION = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_warned: set[Path] = set()  # odd names already reported (once per process, whoever scans)
_warned_lock = threading.Lock()


def parse_version(text: str) -> Optional[int]:
    """The version a directory name (or a request parameter) spells canonically, else None."""
    if not _DIGITS.fullmatch(text) or (len(text) > 1 and text[0] == "0"):
        return None
    value = int(text)
    return value if value <= MAX_VERSION else None


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
            elif (path / "saved_model.pb").is_file():
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
