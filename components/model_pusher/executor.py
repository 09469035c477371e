"""Executor of ModelPusher (see the package docstring for why it exists).

Every file operation goes through tf.io.gfile (tfx.dsl.io.fileio), so the same guarantees hold for
a local model base directory and for a bucket:
- local: the SavedModel is copied into a hidden staging directory beside the target and renamed
  into place, so a version appears whole or not at all;
- object store (no directory rename): every file is copied into the version directory with
  `saved_model.pb` last, the marker TF Serving and the gateway wait for (as TFX's own Pusher does).
  Two pushers (two runs) may pick the same new version at once, and an object store has no
  "create if absent": each claims its version first (`_claim`), so no two ever write into one.
A version number is never reused, and a model already served (same content fingerprint, recorded
in each version's `assets.extra/lexflow_push.json`) is not pushed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from typing import Any, Optional

from absl import logging
from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from components import gfile
from components.artifacts import custom_value, int_custom_value
from components.production_baseline.production import describe_change
from core.model_dir import PUSH_RECORD, SAVED_MODEL, versions

ALLOW_LABEL_CHANGE = "allow_label_change"  # Pusher custom_config key: publish a changed label set


def _is_local(path: str) -> bool:
    return "://" not in path


def model_fingerprint(model_dir: str) -> str:
    """Content hash of a SavedModel directory (graph, variables, assets), ignoring our record."""
    digest = hashlib.sha256()
    for relative in gfile.files_under(model_dir):
        if relative == PUSH_RECORD:
            continue
        digest.update(relative.encode())
        with fileio.open(f"{model_dir.rstrip('/')}/{relative}", "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def _versions(base: str) -> list[int]:
    return versions(gfile.listdir(base)) if fileio.exists(base) else []


def find_served_copy(base: str, fingerprint: str) -> Optional[int]:
    for version in reversed(_versions(base)):
        record = f"{base}/{version}/{PUSH_RECORD}"
        try:
            with fileio.open(record, "r") as handle:
                if json.loads(handle.read()).get("fingerprint") == fingerprint:
                    return version
        except (OSError, ValueError, fileio.NotFoundError):
            continue
    return None


CLAIMS = ".claims"  # <base>/.claims/<version>/<pusher>: hidden, TF Serving loads numeric folders only
MAX_CLAIM_ATTEMPTS = 100


def _next_version(base: str) -> int:
    # Versions only grow: never below the newest existing or claimed one, never reused.
    return max([int(time.time()), *[v + 1 for v in _versions(base) + _versions(f"{base}/{CLAIMS}")]])


def _claim(base: str, version: int, pusher: str) -> bool:
    """Whether this pusher may write <base>/<version>: it wrote its claim and sees no other.

    Object stores (GCS, S3) list what was written before, so of two pushers claiming one version the
    later to list sees both claims and gives way (both may give way; neither ever shares). A claimed
    version is never reused, won or not. The version must not exist either (pushes made before claims).
    """
    folder = f"{base}/{CLAIMS}/{version}"
    fileio.makedirs(folder)
    with fileio.open(f"{folder}/{pusher}", "w") as handle:
        handle.write(str(int(time.time())))
    return gfile.listdir(folder) == [pusher] and not fileio.exists(f"{base}/{version}")


def _write_record(directory: str, record: dict[str, Any]) -> None:
    fileio.makedirs(os.path.dirname(f"{directory}/{PUSH_RECORD}"))
    with fileio.open(f"{directory}/{PUSH_RECORD}", "w") as handle:
        handle.write(json.dumps(record, indent=2, sort_keys=True))


def push_atomically(model_path: str, base: str, record: dict[str, Any]) -> int:
    """Copy the SavedModel to <base>/<version>/ so it appears whole; return the new version."""
    base = str(base).rstrip("/")
    fileio.makedirs(base)
    if _is_local(base):
        return _push_by_rename(model_path, base, record)
    return _push_saved_model_last(model_path, base, record)


def _push_by_rename(model_path: str, base: str, record: dict[str, Any]) -> int:
    staging = f"{base}/.staging-{os.getpid()}-{time.time_ns()}"
    try:
        io_utils.copy_dir(model_path, staging)
        _write_record(staging, record)
        version = _next_version(base)
        while True:
            try:
                os.rename(staging, f"{base}/{version}")  # atomic on one filesystem; fails if the target exists
                return version
            except OSError:
                if not fileio.exists(f"{base}/{version}"):
                    raise
                version += 1
    finally:
        if fileio.exists(staging):
            fileio.rmtree(staging)


def _claim_next_version(base: str) -> int:
    pusher = uuid.uuid4().hex
    for _ in range(MAX_CLAIM_ATTEMPTS):
        version = _next_version(base)
        if _claim(base, version, pusher):
            return version
    raise RuntimeError(f"{base}: no free version after {MAX_CLAIM_ATTEMPTS} claims (other pushers kept winning)")


def _push_saved_model_last(model_path: str, base: str, record: dict[str, Any]) -> int:
    version = _claim_next_version(base)
    target = f"{base}/{version}"
    files = [f for f in gfile.files_under(model_path) if f not in (PUSH_RECORD, SAVED_MODEL)]
    for relative in files:
        fileio.makedirs(os.path.dirname(f"{target}/{relative}"))
        fileio.copy(f"{model_path.rstrip('/')}/{relative}", f"{target}/{relative}", overwrite=True)
    _write_record(target, record)
    # Last: the marker TF Serving and the gateway wait for, so no reader sees a partial version.
    fileio.copy(f"{model_path.rstrip('/')}/{SAVED_MODEL}", f"{target}/{SAVED_MODEL}", overwrite=True)
    return version


class Executor(pusher_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        refusal = _label_change_refusal(input_dict, exec_properties)
        if refusal:
            logging.warning("Not pushing: %s", refusal)
            model_push.set_string_custom_property("refused", refusal)
            self._MarkNotPushed(model_push)
            return
        model_path = self.GetModelPath(input_dict)
        model = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_KEY])
        base = destination.filesystem.base_directory.rstrip("/")
        fingerprint = model_fingerprint(model_path)
        version = find_served_copy(base, fingerprint)
        if version is not None:
            logging.info("Model %s is already served as version %d; not pushing a copy.", model.uri, version)
            model_push.set_int_custom_property("already_served", 1)
        else:
            record = {
                "fingerprint": fingerprint,
                "model_uri": model.uri,
                "model_artifact_id": model.id,
                "pushed_at": int(time.time()),
            }
            version = push_atomically(model_path, base, record)
            logging.info("Model written to serving path %s/%d.", base, version)
        io_utils.copy_dir(model_path, model_push.uri)
        self._MarkPushed(model_push, pushed_destination=f"{base}/{version}", pushed_version=str(version))


def _label_change_refusal(input_dict: dict[str, list[types.Artifact]], exec_properties: dict[str, Any]) -> str:
    """Why a candidate with another label set than production must not be published, or ''."""
    blessing = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_BLESSING_KEY])
    label_change = custom_value(blessing, "label_change")  # read as TFX hands it over on Kubeflow too
    if label_change is None:
        return ""
    custom = json.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null") or {}
    if custom.get(ALLOW_LABEL_CHANGE):
        return ""
    change = json.loads(str(label_change) or "{}")
    production_version = int_custom_value(blessing, "production_version")
    version = "?" if production_version is None else production_version
    return (
        f"the label set differs from version {version} in production ({describe_change(change)}); "
        "publish it with --allow-label-change (pipeline config: allow_label_change: true)"
    )
