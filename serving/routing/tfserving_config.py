"""The TF Serving model config the gateway keeps in the shared volume (`tfserving_config_path`).

TF Serving re-reads it every `--model_config_file_poll_wait_seconds`. It lists, as `specific`
versions, every version routing names plus the newest `tfserving_keep_versions` on disk, so TF
Serving loads a version before routing sends traffic to it and never unloads one that routing
still names. It carries no `version_labels`: the gateway resolves labels and the canary share
itself and calls TF Serving for an explicit version, and a label in the file would make TF
Serving refuse the whole file whenever it moved to a version not yet loaded.

Every replica writes it from the same inputs (the shared routing state and the shared model
directory), so they write the same bytes; writes are atomic (temporary file + rename) and
skipped when nothing changed. The file records the routing revision it was made for, and a
replica that has not seen that revision yet does not overwrite it with an older one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Optional

from core.atomic_file import write_text_atomically

_REVISION = re.compile(r"^# routing revision (\d+)$", re.MULTILINE)


def versions_to_serve(routed: set[int], on_disk: Iterable[int], keep_newest: int) -> list[int]:
    """The routed versions (even if not on disk yet: TF Serving warns and loads them when they
    appear) plus the newest `keep_newest` on disk, ascending."""
    newest = sorted(on_disk, reverse=True)[:keep_newest]
    return sorted(set(routed) | set(newest))


def render(model_name: str, base_path: str, versions: list[int], revision: int) -> str:
    """A text ModelServerConfig. With no version at all yet, `latest` lets TF Serving load the
    first push on its own (the gateway lists it explicitly once it sees it)."""
    if versions:
        listed = "".join(f"        versions: {v}\n" for v in versions)
        policy = f"      specific {{\n{listed}      }}\n"
    else:
        policy = "      latest {\n        num_versions: 1\n      }\n"
    return (
        "# Written by the lexflow gateway; every replica rewrites it, do not edit.\n"
        "# The versions routing names plus the newest on disk (see serving/routing/tfserving_config.py).\n"
        f"# routing revision {revision}\n"
        "model_config_list {\n"
        "  config {\n"
        f'    name: "{model_name}"\n'
        f'    base_path: "{base_path}"\n'
        '    model_platform: "tensorflow"\n'
        "    model_version_policy {\n"
        f"{policy}"
        "    }\n"
        "  }\n"
        "}\n"
    )


def written_revision(text: str) -> Optional[int]:
    match = _REVISION.search(text)
    return int(match.group(1)) if match else None


def write(path: Path, text: str, revision: int) -> bool:
    """Write `text` atomically unless the file already holds it or a newer revision's config."""
    try:
        current = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        current = None
    if current == text:
        return False
    if current is not None and (written_revision(current) or 0) > revision:
        return False
    write_text_atomically(path, text)
    return True
