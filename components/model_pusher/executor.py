"""Executor of ModelPusher (see the package docstring for why it exists)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Optional

from absl import logging
from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

# Written inside each version (assets.extra is the folder TF Serving reserves for extras).
PUSH_RECORD = os.path.join("assets.extra", "lexflow_push.json")


def model_fingerprint(model_dir: str) -> str:
    """Content hash of a SavedModel directory (graph, variables, assets), ignoring our record."""
    digest = hashlib.sha256()
    root = Path(model_dir)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative == Path(PUSH_RECORD).as_posix():
            continue
        digest.update(relative.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _versions(base: Path) -> list[int]:
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()) if base.is_dir() else []


def find_served_copy(base: Path, fingerprint: str) -> Optional[int]:
    for version in reversed(_versions(base)):
        record = base / str(version) / PUSH_RECORD
        try:
            if json.loads(record.read_text()).get("fingerprint") == fingerprint:
                return version
        except (OSError, ValueError):
            continue
    return None


def push_atomically(model_path: str, base: Path, record: dict[str, Any]) -> int:
    """Copy the SavedModel to <base>/<version>/ via a rename; return the new version."""
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f".staging-{os.getpid()}-{time.time_ns()}"
    try:
        shutil.copytree(model_path, staging)
        (staging / PUSH_RECORD).parent.mkdir(parents=True, exist_ok=True)
        (staging / PUSH_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True))
        # Versions only grow: never below the newest existing one, never reused.
        version = max([int(time.time()), *[v + 1 for v in _versions(base)]])
        while True:
            try:
                os.rename(staging, base / str(version))  # atomic on one filesystem; fails if target exists
                return version
            except OSError:
                if not (base / str(version)).exists():
                    raise
                version += 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class Executor(pusher_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        base_directory = destination.filesystem.base_directory
        if destination.WhichOneof("destination") != "filesystem" or "://" in base_directory:
            # Object stores have no rename; the stock executor's saved_model.pb-last copy is the norm there.
            return super().Do(input_dict, output_dict, exec_properties)

        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        model_path = self.GetModelPath(input_dict)
        model = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_KEY])
        base = Path(base_directory)
        fingerprint = model_fingerprint(model_path)

        version = find_served_copy(base, fingerprint)
        if version is not None:
            logging.info("Model %s is already served as version %d; not pushing a copy.", model.uri, version)
            model_push.set_int_custom_property("already_served", 1)
        else:
            version = push_atomically(
                model_path,
                base,
                {
                    "fingerprint": fingerprint,
                    "model_uri": model.uri,
                    "model_artifact_id": model.id,
                    "pushed_at": int(time.time()),
                },
            )
            logging.info("Model written to serving path %s.", base / str(version))
        io_utils.copy_dir(model_path, model_push.uri)
        self._MarkPushed(model_push, pushed_destination=str(base / str(version)), pushed_version=str(version))
